"""The web pages: index, a suite's boards, an entry, errors; served as HTML without scripts."""

import re

import pytest

from leaderboard.pages import CONTENT_SECURITY_POLICY
from portia_envs.harness.report import success_gap_text
from portia_envs.suites import SUITES
from tests.leaderboard.conftest import fresh
from tests.leaderboard.test_submissions import bearer, post_file

ENTRY_LINK = re.compile(r'href="[^"]*/entries/(\d+)"')


def page(http, path, status=200, **params):
    answer = http.get(path, params=params)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    return answer.text


def linked_entries(html, among):
    """The ids of the entries ``html`` links to, in page order, those in ``among`` only."""
    return [int(i) for i in ENTRY_LINK.findall(html) if int(i) in among]


def test_the_index_links_every_suite_with_its_count_of_entries(server, http, results):
    post_file(http, server.token(), fresh(results))
    html = page(http, "/")
    for name in SUITES:
        assert f'/suites/{name}">{name}</a>' in html
    counts = {s["name"]: s["entries"] for s in http.get("/api/v1/suites").json()}
    row = re.search(r"/suites/smoke-v0\">smoke-v0</a></td>(.*?)</tr>", html, re.S)[1]
    assert f'<td class="number">{counts["smoke-v0"]}</td>' in row and counts["smoke-v0"] >= 1


def test_what_a_submitter_writes_is_shown_escaped(server, http, results):
    method = "<script>alert(1)</script>"
    description = '<img src=x onerror="alert(2)">'
    answer = post_file(http, server.token(), fresh(results), method=method, description=description)
    entry_id = answer.json()["id"]
    for html in (page(http, "/suites/smoke-v0", tier="all"), page(http, f"/entries/{entry_id}")):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt;" in page(http, f"/entries/{entry_id}")


def test_a_board_is_ranked_and_sorts_by_any_column_on_the_server(server, http, results):
    token = server.token()
    made = {
        steps: post_file(http, token, fresh(results), env_steps=steps).json()["id"]
        for steps in (30, 10)
    }
    unstated = post_file(http, token, fresh(results)).json()["id"]
    ids = {*made.values(), unstated}
    ascending = page(http, "/suites/smoke-v0", tier="all", sort="env_steps", order="asc")
    assert linked_entries(ascending, ids) == [made[10], made[30], unstated]
    descending = page(http, "/suites/smoke-v0", tier="all", sort="env_steps", order="desc")
    assert linked_entries(descending, ids) == [made[30], made[10], unstated]
    assert 'aria-sort="descending"' in descending
    # Each heading links to the other order of its column; the script sorts the same way.
    assert 'href="?tier=all&amp;sort=env_steps&amp;order=asc"' in descending
    assert "/static/sort.js" in descending
    assert http.get("/static/sort.js").status_code == 200


def test_the_verified_view_leaves_out_self_reported_entries(server, http, results):
    entry_id = post_file(http, server.token(), fresh(results)).json()["id"]
    assert linked_entries(page(http, "/suites/smoke-v0", tier="all"), {entry_id}) == [entry_id]
    assert linked_entries(page(http, "/suites/smoke-v0"), {entry_id}) == []


def test_a_new_entry_shows_on_the_next_request_of_a_page_rendered_before(server, http, results):
    page(http, "/suites/smoke-v0", tier="all")
    entry_id = post_file(http, server.token(), fresh(results), method="newcomer").json()["id"]
    assert entry_id in linked_entries(page(http, "/suites/smoke-v0", tier="all"), {entry_id})
    board = http.get("/api/v1/suites/smoke-v0/leaderboard", params={"tier": "all"}).json()
    assert entry_id in {row["entry_id"] for b in board["boards"] for row in b["rows"]}


def test_an_entry_page_shows_its_tasks_summary_and_plots(server, http, results):
    entry_id = post_file(http, server.token(), fresh(results), method="plotted").json()["id"]
    html = page(http, f"/entries/{entry_id}")
    for task_id in results["scores"]["tasks"]:
        assert f"<td>{task_id}</td>" in html
    heldout = results["scores"]["splits"]["heldout"]["success_rate"]
    assert f"{100 * heldout['value']:.0f}% [{100 * heldout['low']:.0f}," in html
    assert f'<td class="number">{success_gap_text(results["scores"])}</td>' in html
    assert html.index("<th>split</th><th>success rate</th><th>IQM</th>") > 0
    plots = re.findall(r'<img src="[^"]*(/entries/\d+/plots/[a-z]+\.png)"', html)
    names = ("success", "tasks", "splits")
    assert plots == [f"/entries/{entry_id}/plots/{name}.png" for name in names]
    for path in plots:
        first, again = http.get(path), http.get(path)
        assert first.headers["content-type"] == "image/png"
        assert first.content.startswith(b"\x89PNG") and again.content == first.content
    assert http.get(f"/entries/{entry_id}/plots/latency.png").status_code == 404
    assert http.get(f"/entries/{entry_id}/plots/secret.txt").status_code == 404


def test_an_entry_from_before_the_success_gap_is_accepted_and_shown(server, http, results):
    older = fresh(results)
    del older["scores"]["success_gap"]
    answer = post_file(http, server.token(), older, method="older")
    assert answer.status_code == 201, answer.text
    html = page(http, f"/entries/{answer.json()['id']}")
    assert "points (no CI: this results file predates the success gap)</td>" in html
    assert http.get(f"/entries/{answer.json()['id']}/plots/success.png").status_code == 200


def test_a_hidden_entry_answers_gone_until_an_admin_shows_it_again(server, http, results):
    admin = server.token(admin=True)
    entry_id = post_file(http, server.token(), fresh(results), method="hidden").json()["id"]
    http.post(f"/api/v1/entries/{entry_id}/hide", headers=bearer(admin), json={"reason": "copy"})
    assert "was hidden by an admin" in page(http, f"/entries/{entry_id}", 410)
    assert http.get(f"/entries/{entry_id}/plots/tasks.png").status_code == 410
    assert linked_entries(page(http, "/suites/smoke-v0", tier="all"), {entry_id}) == []
    http.post(f"/api/v1/entries/{entry_id}/show", headers=bearer(admin), json={"reason": "ok"})
    page(http, f"/entries/{entry_id}")
    assert linked_entries(page(http, "/suites/smoke-v0", tier="all"), {entry_id}) == [entry_id]


@pytest.mark.parametrize(
    ("path", "params", "status", "message"),
    [
        ("/suites/nope-v0", {}, 404, "unknown suite &#39;nope-v0&#39;"),
        ("/suites/smoke-v0", {"sort": "colour"}, 422, "query sort"),
        ("/suites/smoke-v0", {"tier": "mine"}, 422, "query tier"),
        ("/entries/999999", {}, 404, "there is no entry 999999"),
        ("/entries/0", {}, 422, "path entry_id"),
        ("/jobs/999999", {}, 404, "there is no job 999999"),
        ("/no/such/page", {}, 404, "Not Found: GET /no/such/page"),
    ],
)
def test_a_refused_page_is_an_html_page_saying_why(http, path, params, status, message):
    assert message in page(http, path, status, **params)


@pytest.mark.parametrize("path", ["/suites/smoke-v0", "/api/v1/suites/smoke-v0/leaderboard"])
def test_a_board_is_sent_gzipped_and_answers_304_to_its_etag(http, path):
    zipped = http.get(path, headers={"Accept-Encoding": "gzip"})
    plain = http.get(path, headers={"Accept-Encoding": "identity"})
    assert zipped.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
    assert zipped.content == plain.content  # httpx decoded it
    assert zipped.headers["vary"] == "Accept-Encoding"
    etag = plain.headers["etag"]
    unchanged = http.get(path, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert http.get(path, headers={"If-None-Match": '"v0-1"'}).status_code == 200
