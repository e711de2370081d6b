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
    private static readonly string[] FormTags = ["form", "input", "button", "select", "option", "optgroup", "textarea", "label", "fieldset", "legend", "datalist", "output"];
    private static readonly string[] PageAttributes = ["id", "name", "style", "class"];
    private static readonly HtmlSanitizer Sanitizer = CreateSanitizer();

    public static string ToSafeHtml(string markdown) => Sanitizer.Sanitize(Markdig.Markdown.ToHtml(markdown, Pipeline));

    private static HtmlSanitizer CreateSanitizer()
    {
        var sanitizer = new HtmlSanitizer();
        sanitizer.AllowedSchemes.Remove("ftp");

        // A README must not look like the console itself: no forms to phish with, no styles or classes to
        // cover the page or borrow its look, no ids or names to clobber the page's own elements.
        foreach (var tag in FormTags)
        {
            sanitizer.AllowedTags.Remove(tag);
        }

        foreach (var attribute in PageAttributes)
        {
            sanitizer.AllowedAttributes.Remove(attribute);
        }

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
