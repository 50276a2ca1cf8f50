"""The usage dashboard in headless Chromium against a live server."""

from typing import Any

import httpx

from e2e.conftest import Site, screenshot


def _api(site: Site, token: str, path: str) -> Any:
    response = httpx.get(
        site.base + path, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    response.raise_for_status()
    return response.json()


def shown(value: int) -> str:
    return "<5" if 0 < value < 5 else str(value)


def sign_in(page: Any, site: Site, token: str) -> None:
    page.goto(site.base + "/dashboard")
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_selector("#figures:not([hidden]) #time-table tbody tr")


def totals(page: Any) -> dict[str, str]:
    names = page.locator("#totals dt").all_inner_texts()
    values = page.locator("#totals dd").all_inner_texts()
    return dict(zip(names, values, strict=True))


def table_rows(page: Any, table: str) -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    for row in page.locator(f"#{table} tbody tr").all():
        label = row.locator("th").inner_text()
        rows[label] = row.locator("td").all_inner_texts()
    return rows


def test_page_loads_without_a_token_and_asks_for_one(page: Any, site: Site) -> None:
    page.goto(site.base + "/dashboard")

    assert page.locator("#token").is_visible()
    assert page.locator("#figures").is_hidden()
    screenshot(page, "sign-in")


def test_wrong_token_gets_a_clear_message(page: Any, site: Site) -> None:
    page.goto(site.base + "/dashboard")

    page.fill("#token", "not-a-real-token")
    page.click("button[type=submit]")

    page.wait_for_function("document.querySelector('#message').textContent.length > 0")
    assert "not accepted" in page.locator("#message").inner_text()
    assert page.locator("#figures").is_hidden()
    screenshot(page, "wrong-token")


def test_totals_show_the_figures_the_api_returns(page: Any, site: Site) -> None:
    figures = _api(site, site.admin_token, "/stats")

    sign_in(page, site, site.admin_token)

    seen = totals(page)
    assert seen["Schools"] == shown(figures["teams"])
    assert seen["Pupils"] == shown(figures["participants"])
    assert seen["Assessments"] == shown(figures["snapshots"]["total"])
    assert seen["Programs"] == shown(figures["programs"]["total"])
    screenshot(page, "admin-overview")


def test_chart_bars_carry_the_figures_of_the_table(page: Any, site: Site) -> None:
    figures = _api(site, site.admin_token, "/stats")

    sign_in(page, site, site.admin_token)

    periods = figures["by_period"]["term"]
    bars = page.locator("#time-chart rect[data-series=snapshots]").all()
    values = [bar.get_attribute("data-value") for bar in bars]
    assert values == [shown(p["snapshots"]) for p in periods]
    rows = table_rows(page, "time-table")
    assert list(rows) == [p["period"] for p in periods]


def test_small_counts_are_suppressed(page: Any, site: Site) -> None:
    sign_in(page, site, site.admin_token)

    cells = page.locator("#team-table td[data-series=programs]").all_inner_texts()

    assert "<5" in cells
    assert not any(cell in {"1", "2", "3", "4"} for cell in cells)


def test_a_filter_changes_the_figures(page: Any, site: Site) -> None:
    sign_in(page, site, site.admin_token)
    before = totals(page)
    expected = _api(site, site.admin_token, "/stats?la=830")

    page.select_option("#la", "830")
    page.wait_for_function(
        "document.querySelectorAll('#team-table tbody tr').length === 1"
    )

    after = totals(page)
    assert after != before
    assert after["Pupils"] == shown(expected["participants"])
    screenshot(page, "admin-filtered-by-la")


def test_period_choice_switches_to_months(page: Any, site: Site) -> None:
    sign_in(page, site, site.admin_token)

    page.select_option("#period", "month")
    page.wait_for_function(
        "[...document.querySelectorAll('#time-table tbody th')]"
        ".some(cell => /^\\d{4}-\\d{2}$/.test(cell.textContent))"
    )

    labels = page.locator("#time-table tbody th").all_inner_texts()
    assert all(len(label) == 7 for label in labels)
    screenshot(page, "admin-by-month")


def test_analyst_sees_only_agreed_teams(page: Any, site: Site) -> None:
    figures = _api(site, site.analyst_token, "/stats")

    sign_in(page, site, site.analyst_token)

    options = page.locator("#team option").all()
    teams = {o.get_attribute("value") for o in options} - {""}
    assert teams == site.agreed_teams
    assert {row["team_id"] for row in figures["by_team"]} == site.agreed_teams
    screenshot(page, "analyst-overview")


def test_analyst_gets_export_downloads_and_admin_does_not(
    page: Any, site: Site
) -> None:
    sign_in(page, site, site.analyst_token)
    page.wait_for_selector("#exports:not([hidden]) a")
    links = page.locator("#export-links a").all_inner_texts()

    with page.expect_download() as download:
        page.click("a[data-partner=headstart-kernow][data-format=csv]")

    assert "headstart-kernow (CSV)" in links
    assert download.value.suggested_filename == "headstart-kernow.csv"
    screenshot(page, "analyst-exports")
    page.click("#sign-out")
    sign_in(page, site, site.admin_token)
    assert page.locator("#exports").is_hidden()


def test_page_shows_no_personal_data(page: Any, site: Site) -> None:
    sign_in(page, site, site.admin_token)

    text = page.locator("body").inner_text()

    assert "Canary" not in text
    assert "@e2e.test" not in text
