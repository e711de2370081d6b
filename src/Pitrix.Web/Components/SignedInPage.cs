using Microsoft.AspNetCore.Components;
using Pitrix.Web.Client;
using Pitrix.Web.Session;

namespace Pitrix.Web.Components;

/// <summary>
/// A page for a signed-in user: without a sign-in it sends the browser to <c>/signin</c> (saying the
/// session expired when it did) and back here afterwards; an API refusal becomes <see cref="Problem"/>,
/// which the page shows as the API's message.
/// </summary>
public abstract class SignedInPage : ComponentBase
{
    [Inject]
    protected PitrixApi Api { get; set; } = default!;

    [Inject]
    protected WebSession Session { get; set; } = default!;

    [Inject]
    protected NavigationManager Navigation { get; set; } = default!;

    [CascadingParameter]
    protected Microsoft.AspNetCore.Http.HttpContext? HttpContext { get; set; }

    /// <summary>The API's refusal of the last load or action, shown by the page.</summary>
    protected ApiException? Problem { get; set; }

    /// <summary>True once the page has what it needs to render (or failed to get it).</summary>
    protected bool Loaded { get; private set; }

    /// <summary>True while the browser is being sent to sign in: the page renders nothing.</summary>
    protected bool Redirecting { get; private set; }

    protected override async Task OnParametersSetAsync()
    {
        if (!Session.IsSignedIn)
        {
            RedirectToSignIn(Session.Ended);
            return;
        }

        await RunAsync(LoadAsync);
        Loaded = true;
    }

    /// <summary>Reads what the page shows from the API.</summary>
    protected abstract Task LoadAsync();

    /// <summary>Runs an API call of the page: a refusal becomes <see cref="Problem"/>, an ended session a redirect to sign in.</summary>
    protected async Task<bool> RunAsync(Func<Task> action)
    {
        try
        {
            await action();
            return true;
        }
        catch (SignInRequiredException ex)
        {
            RedirectToSignIn(ex.Expired);
        }
        catch (ApiException ex)
        {
            Problem = ex;

            // The page shows the API's message with the API's status. Not 404: a page that sets 404 during static
            // rendering gets an empty body (Blazor keeps 404 for its not-found page), and the message matters more.
            if (HttpContext is { Response.HasStarted: false } http && ex.Status is >= 400 and < 600 and not 404)
            {
                http.Response.StatusCode = ex.Status;
            }
        }

        return false;
    }

    private void RedirectToSignIn(bool expired)
    {
        Redirecting = true;
        var here = "/" + Navigation.ToBaseRelativePath(Navigation.Uri);
        Navigation.NavigateTo($"/signin?{(expired ? "expired=1&" : "")}returnUrl={Uri.EscapeDataString(here)}");
    }
}
