using Pitrix.Core;
using Pitrix.Core.Access;
using Pitrix.Core.Catalog;

namespace Pitrix.Catalog.Apps;

/// <summary>Who may take a transition.</summary>
public enum ReviewActor
{
    /// <summary>Those who may author in the repo (<see cref="CatalogAccess.CanAuthor"/>).</summary>
    Author,

    /// <summary>Reviewers (<see cref="CatalogAccess.CanReview"/>).</summary>
    Reviewer,
}

/// <summary>
/// The version review workflow (OpenPitrix's, with one review phase):
/// draft|rejected -submit→ submitted -review→ in_review -pass→ passed -release→ active -suspend→ suspended -recover→ active;
/// submitted|in_review -reject→ rejected; submitted|in_review|passed -cancel→ draft; draft|rejected|passed|suspended -delete→ deleted.
/// </summary>
public static class ReviewWorkflow
{
    public sealed record Transition(string Action, IReadOnlyList<string> From, string To, ReviewActor Actor, bool MessageRequired = false);

    public static readonly IReadOnlyDictionary<string, Transition> Transitions = new Dictionary<string, Transition>(StringComparer.Ordinal)
    {
        ["submit"] = new("submit", [AppVersionStatus.Draft, AppVersionStatus.Rejected], AppVersionStatus.Submitted, ReviewActor.Author),
        ["cancel"] = new("cancel", [AppVersionStatus.Submitted, AppVersionStatus.InReview, AppVersionStatus.Passed], AppVersionStatus.Draft, ReviewActor.Author),
        ["review"] = new("review", [AppVersionStatus.Submitted], AppVersionStatus.InReview, ReviewActor.Reviewer),
        ["pass"] = new("pass", [AppVersionStatus.InReview], AppVersionStatus.Passed, ReviewActor.Reviewer),
        ["reject"] = new("reject", [AppVersionStatus.Submitted, AppVersionStatus.InReview], AppVersionStatus.Rejected, ReviewActor.Reviewer, MessageRequired: true),
        ["release"] = new("release", [AppVersionStatus.Passed], AppVersionStatus.Active, ReviewActor.Author),
        ["suspend"] = new("suspend", [AppVersionStatus.Active], AppVersionStatus.Suspended, ReviewActor.Author),
        ["recover"] = new("recover", [AppVersionStatus.Suspended], AppVersionStatus.Active, ReviewActor.Author),
        ["delete"] = new("delete", [AppVersionStatus.Draft, AppVersionStatus.Rejected, AppVersionStatus.Passed, AppVersionStatus.Suspended], AppVersionStatus.Deleted, ReviewActor.Author),
    };

    /// <summary>
    /// Checks a transition and returns the new status. <paramref name="suspendedByReviewer"/> says the
    /// version was suspended by a reviewer: then only a reviewer may recover it.
    /// </summary>
    public static Result<string> Check(string action, Principal principal, Repo repo, AppVersion version, string? message, bool suspendedByReviewer)
    {
        if (!Transitions.TryGetValue(action, out var transition))
        {
            return Error.Validation("app_version.unknown_action", $"Unknown action '{action}'. Use one of: {string.Join(", ", Transitions.Keys)}.");
        }

        var reviewer = CatalogAccess.CanReview(principal, repo);
        var allowed = transition.Actor switch
        {
            ReviewActor.Reviewer => reviewer,
            _ when action == "recover" && suspendedByReviewer => reviewer,
            _ => reviewer || CatalogAccess.CanAuthor(principal, repo),
        };
        if (!allowed)
        {
            var who = transition.Actor == ReviewActor.Reviewer || (action == "recover" && suspendedByReviewer)
                ? "a reviewer (an admin, or for non-public repos the isv of the repo's group)"
                : "an author in the repo (its owner, the isv of its group, or a developer of its group)";
            return Error.Forbidden("app_version.forbidden_transition", $"Only {who} may {action} a version.");
        }

        if (!transition.From.Contains(version.Status, StringComparer.Ordinal))
        {
            return Error.Conflict("app_version.invalid_transition", $"Cannot {action} version {version.Version} while it is {version.Status}; {action} works from {string.Join(" or ", transition.From)}.");
        }

        if (transition.MessageRequired && string.IsNullOrWhiteSpace(message))
        {
            return Error.Validation("validation.failed", $"{action} needs a message saying why.", new Dictionary<string, string[]> { ["message"] = ["Required."] });
        }

        return transition.To;
    }
}
