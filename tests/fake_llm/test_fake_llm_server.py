"""The server's life cycle, concurrency, request log and scripting features."""

from __future__ import annotations

import asyncio
import gc
import http.client
import json
import os
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anthropic
import openai
import pytest
from anthropic.types import MessageParam
from openai.types.chat import ChatCompletionMessageParam

from pytest_agentopt.fake_llm import ErrorReply, FakeLLM, FakeUsage, RecordedRequest, TextReply

MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Hello?"}]
ANTHROPIC_MESSAGES: list[MessageParam] = [{"role": "user", "content": "Hello?"}]


def _chat(client: openai.OpenAI, model: str = "gpt-4o") -> str | None:
    completion = client.chat.completions.create(model=model, messages=MESSAGES)
    return completion.choices[0].message.content


def _port_accepts(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1.0)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_it_listens_on_loopback_and_closes_its_port_when_the_context_exits() -> None:
    with FakeLLM() as llm:
        port = llm.port
        assert llm.base_url == f"http://127.0.0.1:{port}/v1"
        assert llm.anthropic_base_url == f"http://127.0.0.1:{port}"
        assert _port_accepts(port)

    assert not _port_accepts(port)


def test_it_refuses_to_give_an_address_before_it_starts() -> None:
    with pytest.raises(RuntimeError, match="not started"):
        _ = FakeLLM().base_url


def test_it_keeps_its_log_after_closing_but_cannot_restart(api_key: str) -> None:
    with FakeLLM(default_reply="hi") as llm, openai.OpenAI(base_url=llm.base_url, api_key=api_key) as client:
        _chat(client)

    assert len(llm.requests) == 1
    with pytest.raises(RuntimeError, match="closed"):
        llm.start()


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="counts open descriptors through /proc")
def test_it_leaves_no_thread_or_socket_behind_even_with_pooled_connections_open() -> None:
    gc.collect()  # so that objects of earlier tests do not close their sockets during this one
    threads_before = set(threading.enumerate())
    fds_before = _open_fds()

    with FakeLLM() as llm:
        llm.default_reply("pong")
        client = openai.OpenAI(base_url=llm.base_url, api_key="k", max_retries=0)
        for _ in range(3):
            _chat(client)  # the client keeps its keep-alive connection open past the server's close
        assert _open_fds() > fds_before
    client.close()

    assert set(threading.enumerate()) - threads_before == set()
    assert _open_fds() <= fds_before


def test_it_stops_promptly_while_a_delayed_reply_is_in_flight() -> None:
    errors: list[BaseException] = []
    llm = FakeLLM().start()
    llm.delay(30.0)
    llm.reply("never sent")

    def call() -> None:
        with openai.OpenAI(base_url=llm.base_url, api_key="k", max_retries=0) as client:
            try:
                _chat(client)
            except openai.APIConnectionError as error:
                errors.append(error)

    caller = threading.Thread(target=call)
    caller.start()
    while not llm.requests:
        time.sleep(0.01)
    started = time.monotonic()
    llm.close()
    caller.join(timeout=5.0)

    assert time.monotonic() - started < 2.0
    assert not caller.is_alive()
    assert len(errors) == 1


def test_it_serves_concurrent_requests_from_threads(fake_llm: FakeLLM, api_key: str) -> None:
    in_flight = 8
    # Every request waits at the barrier until all 8 are being served at once: a server handling them one at a
    # time would break the barrier (after its timeout) and answer 500s instead.
    barrier = threading.Barrier(in_flight, timeout=5.0)

    def answer(request: RecordedRequest) -> str:
        barrier.wait()
        return f"echo {request.prompt_text}"

    fake_llm.default_reply(answer)
    client = openai.OpenAI(base_url=fake_llm.base_url, api_key=api_key, max_retries=0)

    def call(index: int) -> str | None:
        completion = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": f"n{index}"}])
        return completion.choices[0].message.content

    with ThreadPoolExecutor(max_workers=in_flight) as pool:
        answers = list(pool.map(call, range(in_flight)))
    client.close()

    assert answers == [f"echo n{index}" for index in range(in_flight)]
    assert [request.status for request in fake_llm.requests] == [200] * in_flight


def test_concurrent_callers_each_consume_one_scripted_reply(fake_llm: FakeLLM, api_key: str) -> None:
    for index in range(20):
        fake_llm.reply(f"r{index}")
    client = openai.OpenAI(base_url=fake_llm.base_url, api_key=api_key, max_retries=0)

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: _chat(client), range(20)))
    client.close()

    assert sorted(answers, key=lambda text: int((text or "r-1")[1:])) == [f"r{index}" for index in range(20)]
    assert fake_llm.remaining_replies == 0


def test_its_log_never_holds_the_api_key(
    fake_llm: FakeLLM,
    openai_client: openai.OpenAI,
    anthropic_client: anthropic.Anthropic,
    api_key: str,
) -> None:
    fake_llm.default_reply("ok")

    _chat(openai_client)
    anthropic_client.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=ANTHROPIC_MESSAGES)
    openai_client.models.list()

    assert len(fake_llm.requests) == 3
    for request in fake_llm.requests:
        assert request.api_key_present
        assert "authorization" not in request.headers
        assert "x-api-key" not in request.headers
        assert api_key not in repr(request)
        assert api_key not in json.dumps({**request.headers, "body": request.json})


def test_it_records_that_no_key_was_sent(fake_llm: FakeLLM) -> None:
    urllib.request.urlopen(f"{fake_llm.base_url}/models").close()

    (request,) = fake_llm.requests
    assert not request.api_key_present
    assert (request.method, request.path, request.endpoint, request.status) == (
        "GET",
        "/v1/models",
        "models",
        200,
    )


def test_it_records_the_request_body_endpoint_model_and_stream_flag(
    fake_llm: FakeLLM, openai_client: openai.OpenAI
) -> None:
    fake_llm.reply("x")
    fake_llm.reply("y")

    _chat(openai_client, model="gpt-4o-mini")
    list(openai_client.responses.create(model="gpt-5", input="hi", stream=True))

    chat, responses = fake_llm.requests
    assert (chat.endpoint, chat.model, chat.stream, chat.json["messages"]) == (
        "chat.completions",
        "gpt-4o-mini",
        False,
        MESSAGES,
    )
    assert (responses.endpoint, responses.model, responses.stream) == ("responses", "gpt-5", True)


def test_replies_are_consumed_in_order_across_endpoints(
    fake_llm: FakeLLM, openai_client: openai.OpenAI, anthropic_client: anthropic.Anthropic
) -> None:
    fake_llm.reply("first")
    fake_llm.reply("second")
    fake_llm.reply("third")

    message = anthropic_client.messages.create(model="claude-haiku-4-5", max_tokens=10, messages=ANTHROPIC_MESSAGES)
    response = openai_client.responses.create(model="gpt-5", input="hi")

    assert message.content[0].type == "text"
    assert message.content[0].text == "first"
    assert response.output_text == "second"
    assert _chat(openai_client) == "third"


def test_a_model_queue_serves_its_model_first_and_others_use_the_shared_queue(
    fake_llm: FakeLLM, openai_client: openai.OpenAI
) -> None:
    fake_llm.reply("shared 1")
    fake_llm.reply("for the judge", model="judge-model")
    fake_llm.reply("shared 2")

    assert _chat(openai_client, model="judge-model") == "for the judge"
    assert _chat(openai_client, model="agent-model") == "shared 1"
    assert _chat(openai_client, model="judge-model") == "shared 2"


def test_the_default_reply_answers_once_the_script_is_empty(fake_llm: FakeLLM, openai_client: openai.OpenAI) -> None:
    fake_llm.reply("scripted")
    fake_llm.default_reply(TextReply("default", FakeUsage(input=1, output=1)))

    assert [_chat(openai_client) for _ in range(3)] == ["scripted", "default", "default"]


def test_a_callable_default_reply_sees_the_request(fake_llm: FakeLLM, openai_client: openai.OpenAI) -> None:
    seen: list[RecordedRequest] = []

    def answer(request: RecordedRequest) -> str:
        seen.append(request)
        return f"{request.model}: {request.prompt_text}"

    fake_llm.default_reply(answer)

    assert _chat(openai_client, model="m1") == "m1: Hello?"
    assert seen[0].status is None
    assert fake_llm.requests[0].status == 200


def test_a_failing_default_callable_becomes_a_recorded_500(fake_llm: FakeLLM, openai_client: openai.OpenAI) -> None:
    def answer(request: RecordedRequest) -> str:
        raise LookupError("no canned answer")

    fake_llm.default_reply(answer)

    with pytest.raises(openai.InternalServerError, match="LookupError: no canned answer"):
        _chat(openai_client)
    assert fake_llm.problems == ["fake_llm default_reply callable raised LookupError: no canned answer"]


def test_delay_slows_only_the_next_reply(fake_llm: FakeLLM, openai_client: openai.OpenAI) -> None:
    fake_llm.delay(0.3)
    fake_llm.reply("slow")
    fake_llm.reply("fast")

    started = time.monotonic()
    assert _chat(openai_client) == "slow"
    slow = time.monotonic() - started
    started = time.monotonic()
    assert _chat(openai_client) == "fast"
    fast = time.monotonic() - started

    assert slow >= 0.3
    assert fast < 0.3


def test_latency_slows_every_reply(fake_llm: FakeLLM, openai_client: openai.OpenAI) -> None:
    fake_llm.latency = 0.15
    fake_llm.default_reply("ok")

    started = time.monotonic()
    _chat(openai_client)
    _chat(openai_client)

    assert time.monotonic() - started >= 0.3


def test_it_lists_the_configured_and_scripted_models_for_both_sdks(api_key: str) -> None:
    with FakeLLM(models=("gpt-4o", "claude-haiku-4-5")) as llm:
        llm.reply("x", model="judge-model")
        with (
            openai.OpenAI(base_url=llm.base_url, api_key=api_key) as openai_client,
            anthropic.Anthropic(base_url=llm.anthropic_base_url, api_key=api_key) as anthropic_client,
        ):
            openai_ids = [model.id for model in openai_client.models.list()]
            anthropic_ids = [model.id for model in anthropic_client.models.list()]
            retrieved = openai_client.models.retrieve("gpt-4o")
            anthropic_retrieved = anthropic_client.models.retrieve("judge-model")
            with pytest.raises(openai.NotFoundError):
                openai_client.models.retrieve("unknown-model")

    assert openai_ids == anthropic_ids == ["gpt-4o", "claude-haiku-4-5", "judge-model"]
    assert retrieved.owned_by == "fake_llm"
    assert anthropic_retrieved.display_name == "judge-model"


def test_an_unknown_path_is_a_recorded_404(fake_llm: FakeLLM) -> None:
    request = urllib.request.Request(f"{fake_llm.base_url}/embeddings", data=b"{}", method="POST")

    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request)

    assert raised.value.code == 404
    body = json.loads(raised.value.read())
    assert "no endpoint POST /v1/embeddings" in body["error"]["message"]
    assert fake_llm.requests[0].problem == body["error"]["message"]


def test_a_body_that_is_not_json_is_a_recorded_400(fake_llm: FakeLLM) -> None:
    fake_llm.reply("kept for later")
    request = urllib.request.Request(f"{fake_llm.base_url}/chat/completions", data=b"{not json", method="POST")

    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request)

    assert raised.value.code == 400
    assert fake_llm.requests[0].json is None
    assert fake_llm.problems == ["fake_llm expects a JSON object body for /v1/chat/completions"]
    assert fake_llm.remaining_replies == 1


def test_a_wrong_method_is_a_recorded_405(fake_llm: FakeLLM) -> None:
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(f"{fake_llm.base_url}/chat/completions")

    assert raised.value.code == 405
    assert fake_llm.problems == ["fake_llm serves /v1/chat/completions with POST only, got GET"]


def test_it_reads_a_chunked_request_body(fake_llm: FakeLLM) -> None:
    fake_llm.reply("chunked ok")
    connection = http.client.HTTPConnection("127.0.0.1", fake_llm.port, timeout=5)
    pieces = [b'{"model": "gpt-4o", ', b'"messages": [{"role": "user", "content": "hi"}]}']

    connection.request("POST", "/v1/chat/completions", body=iter(pieces), encode_chunked=True)
    answer = json.loads(connection.getresponse().read())
    connection.close()

    assert answer["choices"][0]["message"]["content"] == "chunked ok"
    assert fake_llm.requests[0].json["messages"] == [{"role": "user", "content": "hi"}]


def test_a_default_error_reply_fails_every_attempt(
    fake_llm: FakeLLM, make_openai: Callable[..., openai.OpenAI]
) -> None:
    fake_llm.default_reply(ErrorReply(503, retry_after=0.001))

    with pytest.raises(openai.InternalServerError):
        _chat(make_openai(max_retries=2))

    assert [request.status for request in fake_llm.requests] == [503, 503, 503]
    assert fake_llm.problems == []


def test_it_accepts_paths_without_the_v1_prefix(fake_llm: FakeLLM, api_key: str) -> None:
    fake_llm.reply("no prefix")
    with openai.OpenAI(base_url=fake_llm.url, api_key=api_key, max_retries=0) as client:
        assert _chat(client) == "no prefix"
    assert fake_llm.requests[0].path == "/chat/completions"


def test_the_async_clients_stream_from_it(fake_llm: FakeLLM, api_key: str) -> None:
    usage = FakeUsage(input=40, output=9, cache_read=10, reasoning=2)
    fake_llm.reply("from async openai", usage=usage)
    fake_llm.reply("from async anthropic", usage=usage)

    async def run() -> tuple[str, int | None, str, int]:
        async with openai.AsyncOpenAI(base_url=fake_llm.base_url, api_key=api_key, max_retries=0) as oai:
            stream = await oai.chat.completions.create(
                model="gpt-4o",
                messages=MESSAGES,
                stream=True,
                stream_options={"include_usage": True},
            )
            chunks = [chunk async for chunk in stream]
        async with (
            anthropic.AsyncAnthropic(base_url=fake_llm.anthropic_base_url, api_key=api_key, max_retries=0) as ant,
            ant.messages.stream(model="claude-haiku-4-5", max_tokens=10, messages=ANTHROPIC_MESSAGES) as events,
        ):
            message = await events.get_final_message()
        text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
        usage_chunk = chunks[-1].usage
        block = message.content[0]
        assert block.type == "text"
        return (
            text,
            usage_chunk.prompt_tokens if usage_chunk else None,
            block.text,
            message.usage.input_tokens,
        )

    assert asyncio.run(run()) == ("from async openai", 40, "from async anthropic", 30)


def test_the_fixture_helper_yields_a_running_server_and_closes_it() -> None:
    from pytest_agentopt.fake_llm import fake_llm_fixture

    generator = fake_llm_fixture()
    llm = next(generator)
    port = llm.port
    assert _port_accepts(port)

    with pytest.raises(StopIteration):
        next(generator)
    assert not _port_accepts(port)
