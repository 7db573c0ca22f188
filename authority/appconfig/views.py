"""National administrators' pages for the apps' settings, under /app-settings/: per platform the
version in force, the draft, its build overrides, the review (diff, risk preview, publication)
and the history with rollback."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from authority.accounts import permissions
from authority.accounts.models import User
from authority.appconfig import preview, selectors, services
from authority.appconfig.catalogue import PLATFORMS
from authority.appconfig.diff import diff_contents
from authority.appconfig.forms import OverrideForm, PublishForm, SettingsForm
from authority.appconfig.models import Platform, SettingsVersion
from authority.appconfig.validation import immuni_leftovers
from authority.l10n import moments

allowed = permissions.allowed_if(permissions.can_manage_app_settings)


def _platform(platform: str) -> str:
    if platform not in PLATFORMS:
        raise Http404
    return platform


def _platform_name(platform: str) -> str:
    return str(Platform(platform).label)


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _when(moment: Any) -> str:
    return moments.long_datetime(moment, zone=True)


@allowed
def overview_view(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    platforms = [
        {
            "code": platform,
            "name": _platform_name(platform),
            "in_force": selectors.version_in_force(platform, at=now),
            "scheduled": selectors.scheduled_versions(platform, at=now),
            "draft": selectors.draft(platform),
        }
        for platform in PLATFORMS
    ]
    return render(request, "appconfig/overview.html", {"platforms": platforms})


@allowed
def platform_view(request: HttpRequest, platform: str) -> HttpResponse:
    platform = _platform(platform)
    now = timezone.now()
    in_force = selectors.version_in_force(platform, at=now)
    return render(
        request,
        "appconfig/platform.html",
        {
            "platform": platform,
            "platform_name": _platform_name(platform),
            "in_force": in_force,
            "scheduled": selectors.scheduled_versions(platform, at=now),
            "draft": selectors.draft(platform),
            "history": selectors.history(platform, at=now),
            "builds": (1, 100, 20000),
            "immuni_leftovers": immuni_leftovers(in_force.document) if in_force else [],
        },
    )


def _conflict_message(current: Any) -> str:
    if current is None:
        return _(
            "The draft was published or discarded by another administrator while you were "
            "editing. Your values are still in the form below: save them to start a new draft."
        )
    who = current.updated_by.display_name if current.updated_by else _("someone")
    return _(
        "%(who)s saved the draft at %(time)s while you were editing, so your values were not "
        "saved. They are still in the form below, and the list shows where they differ from "
        "what %(who)s saved: save again to keep yours."
    ) % {"who": who, "time": _when(current.updated_at)}


@allowed
def edit_view(request: HttpRequest, platform: str) -> HttpResponse:
    platform = _platform(platform)
    content, revision = services.draft_content(platform)
    conflict = None
    if request.method == "POST":
        form = SettingsForm(request.POST, platform=platform, content=content, revision=revision)
        if form.is_valid():
            try:
                services.save_draft(
                    platform=platform,
                    actor=_actor(request),
                    content=form.content(),
                    revision=form.cleaned_data["revision"],
                )
            except services.DraftConflict as error:
                conflict = _conflict_info(platform, form, error)
            except services.InvalidSettings as error:
                form.attach(error.problems)
            else:
                messages.success(
                    request, _("Draft saved. Nothing reaches phones until it is published.")
                )
                if "review" in request.POST:
                    return redirect("appconfig:review", platform=platform)
                return redirect("appconfig:edit", platform=platform)
    else:
        form = SettingsForm(platform=platform, content=content, revision=revision)
    return render(
        request,
        "appconfig/edit.html",
        {
            "platform": platform,
            "platform_name": _platform_name(platform),
            "form": form,
            "draft": selectors.draft(platform),
            "in_force": selectors.version_in_force(platform),
            "overrides": _describe_overrides(content.overrides),
            "conflict": conflict,
        },
    )


def _conflict_info(
    platform: str, form: SettingsForm, error: services.DraftConflict
) -> dict[str, Any]:
    """The message, the differences between what this administrator submitted and what is
    saved now, and a form that will save over it (its revision is the current one)."""
    current = error.current
    mine = form.content()
    saved = (
        services.Content(current.document, current.overrides, current.newest_build)
        if current
        else None
    )
    differences = diff_contents(platform, saved.as_dict() if saved else None, mine.as_dict())
    # Save again: over the current revision, with everything this administrator typed.
    data = form.data.copy()  # type: ignore[attr-defined]  # a QueryDict
    data["revision"] = str(current.revision if current else 0)
    form.data = data
    return {"message": _conflict_message(current), "differences": differences}


def _describe_overrides(overrides: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from authority.appconfig.diff import describe_override

    return [
        {"index": index, "text": describe_override(override)}
        for index, override in enumerate(overrides)
    ]


@allowed
def override_view(request: HttpRequest, platform: str, index: int | None = None) -> HttpResponse:
    platform = _platform(platform)
    content, revision = services.draft_content(platform)
    if index is not None and not 0 <= index < len(content.overrides):
        raise Http404
    conflict = None
    if request.method == "POST":
        form = OverrideForm(
            request.POST, platform=platform, content=content, revision=revision, index=index
        )
        if form.is_valid():
            try:
                services.save_draft(
                    platform=platform,
                    actor=_actor(request),
                    content=form.content(),
                    revision=form.cleaned_data["revision"],
                )
            except services.DraftConflict as error:
                conflict = {"message": _conflict_message(error.current), "differences": []}
                data = form.data.copy()  # type: ignore[attr-defined]  # a QueryDict
                data["revision"] = str(error.current.revision if error.current else 0)
                form.data = data
            except services.InvalidSettings as error:
                form.attach(error.problems)
            else:
                messages.success(request, _("Build override saved in the draft."))
                return redirect("appconfig:edit", platform=platform)
    else:
        form = OverrideForm(platform=platform, content=content, revision=revision, index=index)
    return render(
        request,
        "appconfig/override.html",
        {
            "platform": platform,
            "platform_name": _platform_name(platform),
            "form": form,
            "index": index,
            "conflict": conflict,
        },
    )


@require_POST
@allowed
def override_delete_view(request: HttpRequest, platform: str, index: int) -> HttpResponse:
    platform = _platform(platform)
    content, _revision = services.draft_content(platform)
    if not 0 <= index < len(content.overrides):
        raise Http404
    overrides = [o for i, o in enumerate(content.overrides) if i != index]
    try:
        services.save_draft(
            platform=platform,
            actor=_actor(request),
            content=services.Content(content.document, overrides, content.newest_build),
            revision=int(request.POST.get("revision", "-1") or -1),
        )
    except services.DraftConflict:
        messages.error(request, _conflict_message(selectors.draft(platform)))
    except services.InvalidSettings as error:
        messages.error(request, "; ".join(problem.message for problem in error.problems))
    else:
        messages.success(request, _("Build override removed from the draft."))
    return redirect("appconfig:edit", platform=platform)


@require_POST
@allowed
def discard_view(request: HttpRequest, platform: str) -> HttpResponse:
    platform = _platform(platform)
    try:
        services.discard_draft(
            platform=platform,
            actor=_actor(request),
            revision=int(request.POST.get("revision", "-1") or -1),
        )
    except services.DraftConflict:
        messages.error(
            request, _("The draft changed in the meantime: look at it before discarding it.")
        )
        return redirect("appconfig:edit", platform=platform)
    messages.success(request, _("Draft discarded."))
    return redirect("appconfig:platform", platform=platform)


@allowed
def review_view(request: HttpRequest, platform: str) -> HttpResponse:
    platform = _platform(platform)
    draft = selectors.draft(platform)
    if draft is None:
        messages.info(request, _("There is no draft to review: edit the settings first."))
        return redirect("appconfig:platform", platform=platform)
    content = services.Content(draft.document, draft.overrides, draft.newest_build)
    in_force, changes = services.review(platform, content)
    problems = services.content_problems(platform, content)
    initial = {"revision": draft.revision, "in_force": in_force.number if in_force else None}
    if request.method == "POST":
        form = PublishForm(request.POST, initial=initial)
        if form.is_valid():
            try:
                version = services.publish_draft(
                    platform=platform,
                    actor=_actor(request),
                    revision=form.cleaned_data["revision"],
                    in_force_number=form.cleaned_data["in_force"],
                    activates_at=form.cleaned_data["activates_at"],
                    note=form.cleaned_data["note"],
                )
            except services.DraftConflict:
                messages.error(
                    request, _("The draft changed since you reviewed it: review it again.")
                )
                return redirect("appconfig:review", platform=platform)
            except services.StaleReview:
                messages.error(
                    request,
                    _(
                        "Another version came into force since you reviewed the changes: review them again."
                    ),
                )
                return redirect("appconfig:review", platform=platform)
            except services.BadSchedule as error:
                form.add_error("activates_on", str(error))
            except services.NothingToPublish:
                messages.info(request, _("The draft changes nothing: there is nothing to publish."))
                return redirect("appconfig:platform", platform=platform)
            except services.InvalidSettings:
                pass  # the problems are listed on the page
            else:
                if version.activates_at > version.published_at:
                    messages.success(
                        request,
                        _("Version %(n)s published: it comes into force on %(time)s.")
                        % {"n": version.number, "time": _when(version.activates_at)},
                    )
                else:
                    messages.success(
                        request,
                        _(
                            "Version %(n)s published and in force. Phones pick it up at their "
                            "next download (within %(age)s)."
                        )
                        % {"n": version.number, "age": _max_age_words()},
                    )
                return redirect("appconfig:platform", platform=platform)
    else:
        form = PublishForm(initial={**initial, "when": "now"})
    return render(
        request,
        "appconfig/review.html",
        {
            "platform": platform,
            "platform_name": _platform_name(platform),
            "draft": draft,
            "in_force": in_force,
            "changes": changes,
            "problems": problems,
            "immuni_leftovers": immuni_leftovers(draft.document),
            "scheduled": selectors.scheduled_versions(platform),
            "form": form,
            "preview_rows": _preview_rows(platform, in_force, draft.document, _("Draft")),
            "preview_url": reverse("appconfig:preview", kwargs={"platform": platform}),
        },
    )


def _max_age_words() -> str:
    from django.conf import settings

    from authority.appconfig.display import humanize_seconds

    return humanize_seconds(settings.APP_SETTINGS_MAX_AGE)


def _sides(
    platform: str, in_force: SettingsVersion | None, document: dict[str, Any], label: str
) -> list[preview.Side]:
    sides = []
    if in_force is not None:
        sides.append(
            preview.Side(_("In force (version %(n)s)") % {"n": in_force.number}, in_force.document)
        )
    sides.append(preview.Side(label, document))
    return sides


def _preview_rows(
    platform: str, in_force: SettingsVersion | None, document: dict[str, Any], label: str
) -> dict[str, Any]:
    sides = _sides(platform, in_force, document, label)
    try:
        return {"sides": sides, "rows": preview.rows(platform, sides)}
    except (KeyError, TypeError, ValueError, IndexError):
        return {"sides": [], "rows": []}  # a broken draft: its problems are listed instead


@allowed
def preview_view(request: HttpRequest, platform: str) -> JsonResponse:
    """The risk preview's figure: the draft (or ?version=N) next to the version in force."""
    platform = _platform(platform)
    in_force = selectors.version_in_force(platform)
    number = request.GET.get("version")
    if number:
        target = selectors.version(platform, int(number)) if number.isdigit() else None
        if target is None:
            raise Http404
        document, label = target.document, _("Version %(n)s") % {"n": target.number}
    else:
        draft = selectors.draft(platform)
        if draft is None:
            raise Http404
        document, label = draft.document, _("Draft")
    try:
        figure = preview.figure(platform, _sides(platform, in_force, document, label))
    except (KeyError, TypeError, ValueError, IndexError):
        return JsonResponse({"empty": True})
    response = JsonResponse({"empty": False, "figure": figure})
    response["Cache-Control"] = "no-store"
    return response


@allowed
def version_view(request: HttpRequest, platform: str, number: int) -> HttpResponse:
    platform = _platform(platform)
    version = selectors.version(platform, number)
    if version is None:
        raise Http404
    now = timezone.now()
    in_force = selectors.version_in_force(platform, at=now)
    previous = selectors.version(platform, number - 1)
    return render(
        request,
        "appconfig/version.html",
        {
            "platform": platform,
            "platform_name": _platform_name(platform),
            "version": version,
            "listing": _listing(platform, version.document),
            "in_force": in_force,
            "is_in_force": in_force is not None and in_force.pk == version.pk,
            "is_scheduled": version.is_scheduled(now),
            # The first version has nothing before it: its values are all listed below.
            "changes_from_previous": diff_contents(platform, previous.content, version.content)
            if previous
            else None,
            "rollback_changes": diff_contents(
                platform, in_force.content if in_force else None, version.content
            ),
            "overrides": _describe_overrides(version.overrides),
            "preview_rows": _preview_rows(
                platform, in_force, version.document, _("Version %(n)s") % {"n": version.number}
            ),
            "preview_url": reverse("appconfig:preview", kwargs={"platform": platform})
            + f"?version={version.number}",
        },
    )


def _listing(platform: str, document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every value of a version, by section, as the version page lists them."""
    from authority.appconfig import catalogue
    from authority.appconfig.display import value_lines

    sections = []
    for section, members in catalogue.sections_for(platform):
        items = []
        for setting in members:
            try:
                value = catalogue.read(document, setting)
            except KeyError:
                value = None
            items.append({"setting": setting, "lines": value_lines(setting, value)})
        sections.append({"title": catalogue.SECTION_TITLES[section], "items": items})
    return sections


@require_POST
@allowed
def rollback_view(request: HttpRequest, platform: str, number: int) -> HttpResponse:
    platform = _platform(platform)
    expected = request.POST.get("in_force", "")
    try:
        version = services.roll_back(
            platform=platform,
            actor=_actor(request),
            number=number,
            in_force_number=int(expected) if expected.isdigit() else None,
            note=request.POST.get("note", "")[:500],
        )
    except SettingsVersion.DoesNotExist:
        raise Http404 from None
    except services.StaleReview:
        messages.error(
            request,
            _(
                "Another version came into force meanwhile: check the changes again before rolling back."
            ),
        )
        return redirect("appconfig:version", platform=platform, number=number)
    except services.NothingToPublish:
        messages.info(request, _("These settings are already the ones in force."))
        return redirect("appconfig:platform", platform=platform)
    messages.success(
        request,
        _("Version %(new)s is in force: the settings of version %(old)s are back.")
        % {"new": version.number, "old": number},
    )
    return redirect("appconfig:platform", platform=platform)


@require_POST
@allowed
def cancel_view(request: HttpRequest, platform: str, number: int) -> HttpResponse:
    platform = _platform(platform)
    try:
        services.cancel_scheduled(platform=platform, actor=_actor(request), number=number)
    except services.BadSchedule as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Version %(n)s will not come into force.") % {"n": number})
    return redirect("appconfig:platform", platform=platform)
