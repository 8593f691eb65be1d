"""``{% console_menu %}``: the signed-in staff member's task menu (see :mod:`neweid.server.console.menu`)."""

from __future__ import annotations

from typing import Any

from django import template

from neweid.server.console.menu import MenuGroup, menu_for

register = template.Library()


def menu_of_request(context: template.Context) -> tuple[MenuGroup, ...]:
    request = context.get("request")
    user = getattr(request, "user", None)
    verified = getattr(user, "is_verified", None)
    if user is None or verified is None or not verified():
        return ()
    return menu_for(user)


@register.inclusion_tag("console/menu.html", takes_context=True)
def console_menu(context: template.Context) -> dict[str, Any]:
    return {"menu": menu_of_request(context)}
