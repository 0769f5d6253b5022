"""Reading "My work" (issue 17) in tests: the page as a role gets it, one section of it, and its
rows and links as the reader sees them. Shared by every app's worklist tests."""

import re

from django.urls import reverse

from facility.access import SESSION_FACILITY_KEY


def home(client, user, facility=None) -> str:
    """The page for `user` in a fresh session (the idle sign-out would end one across a clock
    jump), at `facility` when given."""
    client.logout()
    client.force_login(user)
    if facility is not None:
        session = client.session
        session[SESSION_FACILITY_KEY] = facility.pk
        session.save()
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


def section(page: str, key: str) -> str:
    """One section's markup ("" when the page has none). A section with nothing waiting is one
    line of the "Nothing waiting" card."""
    marker = f'id="work-{key}"'
    if marker not in page:
        return ""
    begin = page.index(marker)
    tag = page[page.rfind("<", 0, begin) :].split(None, 1)[0]
    return page[begin : page.index("</li>" if tag == "<li" else "</section>", begin)]


def rows(markup: str) -> list[str]:
    """Each row of a section as the reader sees it (text only), in order."""
    items = re.findall(r'<li class="work-item.*?</li>', markup, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in items]


def hrefs(markup: str) -> list[str]:
    return re.findall(r'<li class="work-item[^"]*">\s*<a href="([^"]+)"', markup)
