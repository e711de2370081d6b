using Ganss.Xss;
using Markdig;

namespace Pitrix.Web.Markdown;

/// <summary>
/// Renders a package's README (Markdown, which may embed HTML) to HTML that is safe to put in the page:
/// after Markdig, HtmlSanitizer keeps only harmless elements and attributes (no script, no event handlers,
/// no <c>javascript:</c> URLs, no forms or frames), and links leave the console without its referrer.
/// </summary>
public static class ReadmeRenderer
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UseAdvancedExtensions().Build();
    private static readonly HtmlSanitizer Sanitizer = CreateSanitizer();

    public static string ToSafeHtml(string markdown) => Sanitizer.Sanitize(Markdig.Markdown.ToHtml(markdown, Pipeline));

    private static HtmlSanitizer CreateSanitizer()
    {
        var sanitizer = new HtmlSanitizer();
        sanitizer.AllowedSchemes.Remove("ftp");
        sanitizer.AllowedAttributes.Remove("id");
        sanitizer.AllowedAttributes.Remove("name");
        sanitizer.PostProcessNode += (_, e) =>
        {
            if (e.Node is AngleSharp.Dom.IElement { LocalName: "a" } link)
            {
                link.SetAttribute("rel", "nofollow noopener noreferrer");
            }
        };
        return sanitizer;
    }
}
