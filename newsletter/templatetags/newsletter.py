from django import template

from newsletter.forms import PreferencesForm
from newsletter.views import current_choices

register = template.Library()


@register.inclusion_tag("newsletter/_choices_form.html", takes_context=True)
def email_choices(context) -> dict:
    """The email tick boxes, for the account page (which belongs to subscriptions, beneath this app)."""
    user = context["request"].user
    form = PreferencesForm(initial=current_choices(user))
    return {"form": form, "from_account": True, "csrf_token": context.get("csrf_token")}
