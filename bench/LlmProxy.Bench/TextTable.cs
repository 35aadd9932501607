namespace LlmProxy.Bench;

/// <summary>A Markdown table on the console: the first column left-aligned, the others right-aligned.</summary>
internal static class TextTable
{
    public static void Print(string[] header, IEnumerable<string[]> rows)
    {
        var all = rows.Prepend(header).ToArray();
        var widths = header.Select((_, column) => all.Max(row => row[column].Length)).ToArray();
        for (var r = 0; r < all.Length; r++)
        {
            var cells = all[r].Select((cell, column) => column == 0 ? cell.PadRight(widths[column]) : cell.PadLeft(widths[column]));
            Console.WriteLine("| " + string.Join(" | ", cells) + " |");
            if (r == 0)
            {
                Console.WriteLine("|" + string.Join("|", widths.Select((w, column) => column == 0 ? new string('-', w + 2) : new string('-', w + 1) + ":")) + "|");
            }
        }
    }
}
