"""Admin for the paywall's terms and for experiments on them (subscriptions/experiments.py).

Staff set up an experiment with two to four arms, start it (status "running": one at a
time), read its results page whenever they like — the verdict stays honest under daily
looks — and end it by choosing a winner, whose terms become the site's (PaywallSettings).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import widgets as admin_widgets
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from . import experiments
from .models import Experiment, ExperimentVariant, PaywallSettings

LABELS = "ABCD"


class VariantFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        kept = [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE")]
        if not 2 <= len(kept) <= 4:
            raise ValidationError("An experiment compares two to four arms.")
        labels = sorted(f.cleaned_data["label"] for f in kept)
        if labels != list(LABELS[: len(kept)]):
            raise ValidationError(f"Name the arms {', '.join(LABELS[: len(kept)])}: A is the one the others are "
                                  "compared with (usually today's terms).")  # fmt: skip


class VariantForm(forms.ModelForm):
    label = forms.ChoiceField(choices=[(x, x) for x in LABELS])

    class Meta:
        model = ExperimentVariant
        fields = ["label", *ExperimentVariant.TERMS]
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}


class VariantInline(admin.StackedInline):
    model = ExperimentVariant
    form = VariantForm
    formset = VariantFormSet
    extra = 0
    min_num = 2
    max_num = 4
    verbose_name = "arm"
    verbose_name_plural = "arms (each empty field keeps the site's own setting)"

    def has_change_permission(self, request: HttpRequest, obj: Experiment | None = None) -> bool:
        # An arm's terms are fixed once readers have met them: results would mix two tests.
        if obj is not None and obj.status != Experiment.Status.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    has_add_permission = has_delete_permission = has_change_permission  # type: ignore[assignment]


class _LabelledSplitDateTime(admin_widgets.AdminSplitDateTime):
    """The admin's date and time boxes, each named for screen readers (as articles/admin.py does)."""

    def __init__(self, attrs: dict | None = None) -> None:
        super().__init__(attrs)
        self.widgets[0].attrs["aria-label"] = "Date"
        self.widgets[1].attrs["aria-label"] = "Time"


class ExperimentForm(forms.ModelForm):
    class Meta:
        model = Experiment
        fields = ["name", "share", "starts_at", "ends_at", "metric", "status"]
        widgets = {"starts_at": _LabelledSplitDateTime, "ends_at": _LabelledSplitDateTime}

    def clean_status(self) -> str:
        status = self.cleaned_data["status"]
        if status == Experiment.Status.ENDED and self.instance.status != Experiment.Status.ENDED:
            raise ValidationError("End an experiment from its results page, choosing a winner (or none).")
        if self.instance.status == Experiment.Status.ENDED and status != Experiment.Status.ENDED:
            raise ValidationError("An ended experiment cannot run again: make a new one.")
        return status


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    form = ExperimentForm
    inlines = [VariantInline]
    list_display = ["name", "status", "share", "metric", "starts_at", "winner", "results_link"]
    list_filter = ["status"]
    readonly_fields = ["results_link", "winner"]

    def get_fields(self, request: HttpRequest, obj: Experiment | None = None) -> list[str]:
        fields = list(ExperimentForm.Meta.fields)
        return fields if obj is None else [*fields, *self.readonly_fields]

    @admin.display(description="Results")
    def results_link(self, obj: Experiment) -> str:
        if obj.pk is None:
            return "—"
        return format_html('<a href="{}">Results</a>', reverse("admin:subscriptions_experiment_results", args=[obj.pk]))

    def get_urls(self):
        view = self.admin_site.admin_view(self.results_view)
        return [path("<int:pk>/results/", view, name="subscriptions_experiment_results"), *super().get_urls()]

    def results_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        experiment = get_object_or_404(Experiment, pk=pk)
        variants = {v.label: v for v in experiment.variants.all()}
        if request.method == "POST":
            if not self.has_change_permission(request, experiment):
                raise PermissionDenied
            choice = request.POST.get("winner", "")
            if experiment.status == Experiment.Status.ENDED:
                messages.error(request, "This experiment has already ended.")
            elif choice != "none" and choice not in variants:
                messages.error(request, "Choose one of the arms as the winner, or none.")
            else:
                winner = variants.get(choice)
                experiments.experiment_end(experiment=experiment, winner=winner)
                outcome = f"Arm {choice}’s terms are now the site’s." if winner else "The site keeps its own terms."
                messages.success(request, f"Ended. {outcome}")
            return HttpResponseRedirect(request.path)
        arms = experiments.results(experiment)
        sentence, best = experiments.verdict([(a.label, a.readers, a.successes) for a in arms])
        context = {
            **self.admin_site.each_context(request),
            "title": f"Results: {experiment.name}",
            "opts": self.model._meta,
            "experiment": experiment,
            "arms": arms,
            "sentence": sentence,
            "best": best,
            "confidence": round(100 * (1 - experiments.ALPHA)),
            "min_readers": experiments.MIN_READERS,
            "may_end": experiment.status != Experiment.Status.ENDED and self.has_change_permission(request, experiment),
        }
        return TemplateResponse(request, "admin/subscriptions/experiment_results.html", context)

    def delete_model(self, request: HttpRequest, obj: Experiment) -> None:
        labels = list(obj.variants.values_list("label", flat=True))
        pk = obj.pk
        super().delete_model(request, obj)
        experiments.forget_counts(pk, labels)


@admin.register(PaywallSettings)
class PaywallSettingsAdmin(admin.ModelAdmin):
    """The one row of the paywall's terms the site reads."""

    fields = [*PaywallSettings.TERMS, "updated_at"]
    readonly_fields = ["updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not PaywallSettings.objects.exists() and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
