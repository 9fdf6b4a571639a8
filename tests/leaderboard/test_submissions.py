"""The API end to end over HTTP: submitting, refusing, ranking, moderating, the audit log."""

import copy
import json

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from leaderboard.models import Entry, Token, utc_now
from leaderboard.quota import next_reset
from leaderboard.tokens import revoke_token
from portia_envs.errors import ResultsError
from portia_envs.results import validate_results
from portia_envs.suites import SUITES
from tests.leaderboard.conftest import DAILY_ATTEMPTS, fresh


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def post_file(http, token, results, **metadata):
    """Submit as `portia submit` does: the file as a multipart part, metadata as fields."""
    fields = {"method": "a method", **metadata}
    data = json.dumps(results).encode() if isinstance(results, dict) else results
    return http.post(
        "/api/v1/entries",
        headers=bearer(token),
        data={key: str(value) for key, value in fields.items()},
        files={"results": ("results.json", data, "application/json")},
    )


def post_json(http, token, body):
    return http.post("/api/v1/entries", headers=bearer(token), json=body)


def leaderboard(http, tier="all"):
    answer = http.get("/api/v1/suites/smoke-v0/leaderboard", params={"tier": tier})
    assert answer.status_code == 200, answer.text
    return answer.json()


def rows_of(board_json):
    return {row["entry_id"]: row for board in board_json["boards"] for row in board["rows"]}


def last_audit(server):
    _, _, actor, action, entry_id, detail = server.audit_rows()[-1]
    return actor, action, entry_id, json.loads(detail)


# Submitting.


def test_a_valid_file_is_stored_with_its_metadata_and_summary(server, http, results):
    token = server.token(name="carol")
    submitted = fresh(results)
    answer = post_file(
        http,
        token,
        submitted,
        method="Carol's method",
        description="two lines\nof text",
        url="https://example.org/paper",
        license="MIT",
        env_steps=12345,
        trained_on="smoke-v0 train tasks",
        policy_params=999,
    )
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created["tier"] == "self-reported"
    assert created["url"] == f"{server.url}/api/v1/entries/{created['id']}"
    entry = http.get(created["url"]).json()
    scores = submitted["scores"]
    assert entry["method"] == "Carol's method"
    assert entry["description"] == "two lines\nof text"
    assert (entry["url"], entry["license"]) == ("https://example.org/paper", "MIT")
    assert (entry["env_steps"], entry["policy_params"]) == (12345, 999)
    assert entry["submitted_by"] == "carol"
    assert entry["suite"] == "smoke-v0" and entry["track"] == "paused"
    assert entry["heldout_success"] == scores["splits"]["heldout"]["success_rate"]
    assert entry["train_success"] == scores["splits"]["train"]["success_rate"]
    assert entry["heldout_iqm"] == scores["splits"]["heldout"]["iqm"]
    assert entry["generalization_gap"] == scores["generalization_gap"]
    assert entry["episodes"] == len(submitted["episodes"]) == 3
    assert entry["scores"] == scores
    download = http.get(entry["results"])
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.json() == submitted
    assert last_audit(server) == (
        "carol",
        "entry.submitted",
        created["id"],
        {"method": "Carol's method", "suite": "smoke-v0", "tier": "self-reported"},
    )


def test_a_json_submission_is_stored_like_a_multipart_one(server, http, results):
    submitted = fresh(results)
    answer = post_json(http, server.token(), {"method": "as JSON", "results": submitted})
    assert answer.status_code == 201, answer.text
    entry = http.get(answer.json()["url"]).json()
    assert entry["method"] == "as JSON" and entry["scores"] == submitted["scores"]


def test_the_server_validates_the_harness_own_file_with_its_2000_replicates(
    server, http, bench_results
):
    assert bench_results["scores"]["bootstrap"]["reps"] == 2000
    answer = post_file(http, server.token(), fresh(bench_results))
    assert answer.status_code == 201, answer.text


def test_the_same_file_twice_is_refused_and_the_refusal_logged(server, http, results):
    token = server.token()
    submitted = fresh(results)
    first = post_file(http, token, submitted)
    assert first.status_code == 201
    before = server.counts()
    # The same content, keys in another order and indented: the same file.
    again = post_file(http, token, json.dumps(submitted, indent=3, sort_keys=True).encode())
    assert again.status_code == 409
    assert again.json() == {
        "error": f"this results file was already submitted: entry {first.json()['id']}"
    }
    assert server.counts() == (before[0], before[1] + 1)
    assert last_audit(server)[1:] == (
        "entry.refused",
        None,
        {"method": "a method", "reason": again.json()["error"], "status": 409},
    )


# Tampering: each edit is refused with validate_results's reason, and nothing is stored.


def remove_episode(results):
    results["episodes"].pop()


def duplicate_episode(results):
    results["episodes"].append(copy.deepcopy(results["episodes"][0]))


def edit_score(results):
    results["scores"]["splits"]["heldout"]["iqm"]["value"] += 1.0


def change_suite_hash(results):
    results["suite"]["hash"] = "0123456789abcdef"


def change_return(results):
    results["episodes"][0]["return"] += 5.0


def run_in_process(results):
    results["isolation"] = "in-process"


TAMPERINGS = [
    pytest.param(edit_score, "scores.splits.heldout.iqm.value is", id="score-edited"),
    pytest.param(remove_episode, "missing e.g. [('reach-high-left', 0, 0)]", id="removed"),
    pytest.param(duplicate_episode, "1 repeated", id="duplicated"),
    pytest.param(change_suite_hash, "with hash 0123456789abcdef, but", id="suite-hash"),
    pytest.param(change_return, "the stored scores do not match the episodes", id="returns"),
]


@pytest.mark.parametrize(("tamper", "reason"), TAMPERINGS)
def test_each_tampering_is_refused_with_the_reason_and_nothing_stored(
    server, http, results, tamper, reason
):
    tampered = fresh(results)
    tamper(tampered)
    with pytest.raises(ResultsError) as locally:
        validate_results(tampered, "results.json")
    token = server.token()
    entries, audit_rows = server.counts()
    answer = post_file(http, token, tampered)
    assert answer.status_code == 422
    # The reason portia validate gives, word for word.
    assert answer.json() == {"error": str(locally.value)}
    assert reason in answer.json()["error"]
    assert server.counts() == (entries, audit_rows + 1)
    assert last_audit(server)[1] == "entry.refused"
    assert last_audit(server)[3]["reason"] == str(locally.value)


def test_a_valid_file_of_an_in_process_run_is_refused_by_the_leaderboard_rule(
    server, http, results
):
    tampered = fresh(results)
    run_in_process(tampered)
    validate_results(tampered)  # valid for portia validate: nothing binds isolation
    token = server.token()
    before = server.counts()
    answer = post_file(http, token, tampered)
    assert answer.status_code == 422
    assert "isolation is 'in-process'; the leaderboard accepts runs" in answer.json()["error"]
    assert server.counts() == (before[0], before[1] + 1)


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        pytest.param(b"{not json", 400, "the request body is not valid JSON", id="body"),
        pytest.param(b"[1, 2]", 400, "a JSON submission is an object holding", id="not-object"),
        pytest.param(b"[" * 100_000, 400, "it is nested too deeply", id="deep"),
    ],
)
def test_a_malformed_json_body_is_refused(server, http, body, status, message):
    token = server.token()
    before = server.counts()
    answer = http.post(
        "/api/v1/entries",
        headers={**bearer(token), "Content-Type": "application/json"},
        content=body,
    )
    assert answer.status_code == status
    assert message in answer.json()["error"]
    assert server.counts() == (before[0], before[1] + 1)


def test_a_results_file_that_is_not_json_is_refused(server, http):
    token = server.token()
    before = server.counts()
    answer = post_file(http, token, b'{"schema_version": 2,')
    assert answer.status_code == 422
    assert answer.json()["error"].startswith("results.json is not valid JSON: ")
    assert server.counts() == (before[0], before[1] + 1)


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({"method": ""}, "metadata field 'method': Field required"),
        ({"method": " "}, "metadata field 'method': Value error, the method's name must not"),
        ({"url": "javascript:alert(1)"}, "metadata field 'url': Value error, the URL must start"),
        ({"method": "a\x1bb"}, "metadata field 'method': Value error, control characters"),
        ({"env_steps": "-1"}, "metadata field 'env_steps': Input should be greater than or"),
        ({"env_steps": "many"}, "metadata field 'env_steps': Input should be a valid integer"),
        ({"score": "100"}, "metadata field 'score': Extra inputs are not permitted"),
        ({"method": "m" * 101}, "metadata field 'method': String should have at most 100"),
    ],
)
def test_refused_metadata_is_named_and_nothing_stored(server, http, results, metadata, message):
    token = server.token()
    before = server.counts()
    answer = post_file(http, token, fresh(results), **metadata)
    assert answer.status_code == 422
    assert answer.json()["error"].startswith(message)
    assert "fields accepted: method, description, url, license" in answer.json()["error"]
    assert server.counts() == (before[0], before[1] + 1)


def test_a_body_of_another_media_type_is_refused(server, http):
    answer = http.post(
        "/api/v1/entries",
        headers={**bearer(server.token()), "Content-Type": "text/plain"},
        content=b"hello",
    )
    assert answer.status_code == 415
    assert answer.json() == {
        "error": "a submission's Content-Type is application/json or multipart/form-data; "
        "got 'text/plain'"
    }


# Tokens.


def test_missing_wrong_and_revoked_tokens_are_refused_saying_which(server, http, results):
    revoked = server.token(name="mallory")
    with server.sessions.begin() as session:
        revoke_token(session, "mallory", at=utc_now())
    before = server.counts()
    cases = [
        ({}, "missing API token: send the header 'Authorization: Bearer TOKEN'"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "must be 'Bearer TOKEN'; got a 'Basic'"),
        ({"Authorization": "Bearer"}, "must be 'Bearer TOKEN'; got a 'Bearer' credential without"),
        (bearer("ptk_" + "x" * 43), "unknown API token: no account has this token"),
        (bearer(revoked), "the API token of 'mallory' was revoked at "),
    ]
    for headers, message in cases:
        answer = http.post(
            "/api/v1/entries",
            headers=headers,
            files={"results": ("results.json", json.dumps(fresh(results)).encode())},
            data={"method": "m"},
        )
        assert answer.status_code == 401, headers
        assert answer.headers["www-authenticate"] == "Bearer"
        assert message in answer.json()["error"]
        admin_route = http.get("/api/v1/audit", headers=headers)
        assert admin_route.status_code == 401 and message in admin_route.json()["error"]
    assert server.counts() == before


def test_admin_routes_refuse_a_token_that_is_not_admin(server, http):
    answer = http.get("/api/v1/audit", headers=bearer(server.token(name="dave")))
    assert answer.status_code == 403
    assert "this route needs an admin token; the token of 'dave' is not one" in answer.text


# The quota.


def test_the_quota_counts_refused_attempts_and_says_when_it_resets(server, http, results):
    token = server.token(name="erin")
    statuses = [post_file(http, token, fresh(results)).status_code]
    statuses += [post_file(http, token, b"not json").status_code for _ in range(2)]
    statuses += [post_file(http, token, fresh(results)).status_code for _ in range(3)]
    assert statuses == [201, 422, 422, 201, 201, 201]
    assert len(statuses) == DAILY_ATTEMPTS
    before = server.counts()
    refused = post_file(http, token, fresh(results))
    assert refused.status_code == 429
    with server.sessions() as session:
        day = session.scalar(select(Token.quota_day).where(Token.name == "erin"))
    reset = next_reset(day)
    assert refused.json() == {
        "error": f"submission quota exceeded: a token may make {DAILY_ATTEMPTS} submission "
        f"attempts per UTC day, refused ones included, and 'erin' has made {DAILY_ATTEMPTS} "
        f"today; the count resets at {reset.isoformat()}"
    }
    assert 0 < int(refused.headers["retry-after"]) <= 86_400
    assert server.counts() == before
    # Another token is not affected.
    assert post_file(http, server.token(), fresh(results)).status_code == 201


# What is stored is data: returned as written, never run.

HOSTILE = [
    "<script>alert('x')</script>",
    "'; DROP TABLE entries; --",
    "Robert'); DELETE FROM audit_log; --",
    '" OR 1=1 --',
]


@pytest.mark.parametrize("method", HOSTILE)
def test_hostile_text_is_stored_literally_and_returned_as_json_data(server, http, results, method):
    token = server.token()
    entries, audit_rows = server.counts()
    answer = post_file(http, token, fresh(results), method=method, description=method)
    assert answer.status_code == 201, answer.text
    entry = http.get(answer.json()["url"])
    assert entry.headers["content-type"] == "application/json"
    assert entry.headers["x-content-type-options"] == "nosniff"
    assert entry.json()["method"] == method and entry.json()["description"] == method
    row = rows_of(leaderboard(http))[answer.json()["id"]]
    assert row["method"] == method
    with server.sessions() as session:
        assert session.get(Entry, answer.json()["id"]).method == method
    assert server.counts() == (entries + 1, audit_rows + 1)


# Reading.


def test_suites_are_listed_with_their_entry_counts(server, http, results):
    before = {suite["name"]: suite for suite in http.get("/api/v1/suites").json()}
    assert list(before) == list(SUITES)
    for name, suite in before.items():
        assert suite["hash"] == SUITES[name].hash
        assert suite["heldout_tasks"] == len(SUITES[name].heldout)
        assert suite["leaderboard"] == f"{server.url}/api/v1/suites/{name}/leaderboard"
    assert post_file(http, server.token(), fresh(results)).status_code == 201
    after = {suite["name"]: suite for suite in http.get("/api/v1/suites").json()}
    assert after["smoke-v0"]["entries"] == before["smoke-v0"]["entries"] + 1
    assert after["arm-reach-v0"]["entries"] == before["arm-reach-v0"]["entries"] == 0


def test_self_reported_entries_show_only_in_the_all_view_marked(server, http, results):
    answer = post_file(http, server.token(), fresh(results), method="shown in all")
    entry_id = answer.json()["id"]
    assert entry_id not in rows_of(leaderboard(http, "verified"))
    default = http.get("/api/v1/suites/smoke-v0/leaderboard").json()
    assert default["view"] == "verified" and default["tiers"] == ["verified", "baseline"]
    everything = leaderboard(http, "all")
    assert everything["tiers"] == ["verified", "self-reported", "baseline"]
    row = rows_of(everything)[entry_id]
    assert row["tier"] == "self-reported" and row["method"] == "shown in all"
    # Every entry here is random: held-out success 0 [0, 0], so none is clearly ahead.
    assert {row["rank"] for row in rows_of(everything).values()} == {1}
    assert [board["track"] for board in everything["boards"]] == ["paused"]


def test_the_leaderboard_downloads_as_a_json_file(server, http):
    download = http.get("/api/v1/suites/smoke-v0/leaderboard.json", params={"tier": "all"})
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/json"
    assert download.headers["content-disposition"] == (
        'attachment; filename="smoke-v0-leaderboard.json"'
    )
    assert download.json() == leaderboard(http, "all")


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/api/v1/suites/nope-v0/leaderboard", 404, "unknown suite 'nope-v0'; known suites: "),
        ("/api/v1/suites/nope-v0/leaderboard.json", 404, "unknown suite 'nope-v0'"),
        ("/api/v1/suites/smoke-v0/leaderboard?tier=best", 422, "query tier: Input should be"),
        ("/api/v1/entries/999999", 404, "there is no entry 999999"),
        ("/api/v1/entries/999999/results.json", 404, "there is no entry 999999"),
        ("/api/v1/entries/0", 422, "path entry_id: Input should be greater than or equal to 1"),
        ("/api/v1/entries/abc", 422, "path entry_id: Input should be a valid integer"),
        ("/api/v1/nothing", 404, "Not Found: GET /api/v1/nothing"),
    ],
)
def test_unknown_things_are_json_errors(http, path, status, message):
    answer = http.get(path)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/json"
    assert message in answer.json()["error"]


def test_the_openapi_docs_list_every_route(http):
    spec = http.get("/api/v1/openapi.json").json()
    assert {(path, method) for path, item in spec["paths"].items() for method in item} == {
        ("/api/v1/suites", "get"),
        ("/api/v1/suites/{suite}/leaderboard", "get"),
        ("/api/v1/suites/{suite}/leaderboard.json", "get"),
        ("/api/v1/entries", "post"),
        ("/api/v1/entries/{entry_id}", "get"),
        ("/api/v1/entries/{entry_id}/results.json", "get"),
        ("/api/v1/entries/{entry_id}/hide", "post"),
        ("/api/v1/entries/{entry_id}/show", "post"),
        ("/api/v1/entries/{entry_id}/flag", "post"),
        ("/api/v1/audit", "get"),
        ("/api/v1/policies", "post"),
        ("/api/v1/jobs/{job_id}", "get"),
    }
    body = spec["paths"]["/api/v1/entries"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "multipart/form-data"}
    docs = http.get("/api/v1/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


# Moderation and the audit log.


def test_admins_flag_hide_and_show_entries_with_a_reason(server, http, results):
    admin = server.token(admin=True, name="moderator")
    entry_id = post_file(http, server.token(), fresh(results), method="to moderate").json()["id"]
    flagged = http.post(
        f"/api/v1/entries/{entry_id}/flag",
        headers=bearer(admin),
        json={"reason": "latencies look invented"},
    )
    assert flagged.status_code == 200
    assert flagged.json() == {"id": entry_id, "hidden": None, "flag": "latencies look invented"}
    assert rows_of(leaderboard(http))[entry_id]["flag"] == "latencies look invented"
    assert http.get(f"/api/v1/entries/{entry_id}").json()["flag"]["reason"] == (
        "latencies look invented"
    )
    assert last_audit(server) == (
        "moderator",
        "entry.flagged",
        entry_id,
        {"reason": "latencies look invented"},
    )
    hidden = http.post(
        f"/api/v1/entries/{entry_id}/hide", headers=bearer(admin), json={"reason": "duplicate"}
    )
    assert hidden.json() == {
        "id": entry_id,
        "hidden": "duplicate",
        "flag": "latencies look invented",
    }
    assert last_audit(server) == ("moderator", "entry.hidden", entry_id, {"reason": "duplicate"})
    assert entry_id not in rows_of(leaderboard(http))
    gone = http.get(f"/api/v1/entries/{entry_id}")
    assert gone.status_code == 410 and gone.json()["error"].endswith(": duplicate")
    assert http.get(f"/api/v1/entries/{entry_id}/results.json").status_code == 410
    again = http.post(
        f"/api/v1/entries/{entry_id}/hide", headers=bearer(admin), json={"reason": "x"}
    )
    assert again.status_code == 409
    shown = http.post(
        f"/api/v1/entries/{entry_id}/show", headers=bearer(admin), json={"reason": "not a copy"}
    )
    assert shown.json() == {"id": entry_id, "hidden": None, "flag": "latencies look invented"}
    assert last_audit(server) == ("moderator", "entry.shown", entry_id, {"reason": "not a copy"})
    assert entry_id in rows_of(leaderboard(http))
    assert http.get(f"/api/v1/entries/{entry_id}").status_code == 200
    shown_twice = http.post(
        f"/api/v1/entries/{entry_id}/show", headers=bearer(admin), json={"reason": "x"}
    )
    assert shown_twice.status_code == 409 and "is not hidden" in shown_twice.json()["error"]
    for path in ("hide", "show", "flag"):
        assert (
            http.post(
                f"/api/v1/entries/{entry_id}/{path}",
                headers=bearer(server.token()),
                json={"reason": "x"},
            ).status_code
            == 403
        )
        missing = http.post(f"/api/v1/entries/{entry_id}/{path}", headers=bearer(admin), json={})
        assert missing.status_code == 422 and "body reason: Field required" in missing.text
        nul = http.post(
            f"/api/v1/entries/{entry_id}/{path}", headers=bearer(admin), json={"reason": "a\x00"}
        )
        assert nul.status_code == 422 and "control characters are not accepted" in nul.text
        unknown = http.post(
            "/api/v1/entries/999999/flag", headers=bearer(admin), json={"reason": "x"}
        )
        assert unknown.status_code == 404


def test_the_audit_log_is_appended_to_and_never_altered(server, http, results):
    admin = server.token(admin=True)
    before = server.audit_rows()
    entry_id = post_file(http, server.token(), fresh(results)).json()["id"]
    post_file(http, server.token(), b"broken")
    http.post(f"/api/v1/entries/{entry_id}/flag", headers=bearer(admin), json={"reason": "r"})
    after = server.audit_rows()
    assert after[: len(before)] == before
    assert [row[3] for row in after[len(before) :]] == [
        "token.created",
        "entry.submitted",
        "token.created",
        "entry.refused",
        "entry.flagged",
    ]
    page = http.get(
        "/api/v1/audit", headers=bearer(admin), params={"after": before[-1][0], "limit": 2}
    )
    assert [event["id"] for event in page.json()] == [row[0] for row in after[len(before) :]][:2]
    with server.sessions() as session:
        for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
            with pytest.raises(DBAPIError, match="the audit log is append-only"):
                session.execute(text(statement))
            session.rollback()
    assert server.audit_rows() == after
