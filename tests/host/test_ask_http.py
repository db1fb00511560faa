"""jarvis-host ask against real HTTP servers on loopback, for what the vlm-emulator cannot show: the request as the
server received it (the API key header, and that the key is never printed), and a port where nothing listens.
Answers, streaming and refusals are tested against the emulator (test_ask_emulator.cpp)."""

import http.server
import json
import os
import socket
import subprocess
import tempfile
import threading
import unittest

HOST = os.environ["JARVIS_HOST_BINARY"]


def read_body(handler):
    """The request's body, sent whole (Content-Length) or in chunks (frames sent while they are decoded)."""
    if handler.headers.get("Transfer-Encoding", "").lower() != "chunked":
        return handler.rfile.read(int(handler.headers["Content-Length"]))
    body = b""
    while True:
        size = int(handler.rfile.readline().split(b";")[0], 16)
        chunk = handler.rfile.read(size + 2)  # and its CRLF
        if size == 0:
            return body
        body += chunk[:-2]


class Handler(http.server.BaseHTTPRequestHandler):
    reply = (200, {})
    received = []

    def do_POST(self):
        body = read_body(self)
        Handler.received.append((self.path, self.headers.get("Authorization"), json.loads(body)))
        status, payload = Handler.reply
        data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class AskOverHttpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.video = os.path.join(cls.tmp.name, "clip.mp4")
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                        "testsrc2=size=320x240:rate=25", "-t", "2", "-c:v", "libx264", cls.video], check=True)
        cls.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        cls.thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        cls.thread.start()
        cls.endpoint = f"http://127.0.0.1:{cls.server.server_address[1]}/v1"

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.tmp.cleanup()

    def ask(self, endpoint, *extra, env=None):
        return subprocess.run([HOST, "--endpoint", endpoint, "--loadout", "vllm://Org/Model#nativevideo", "ask",
                               "--video", self.video, "--prompt", "What moves?", *extra],
                              capture_output=True, text=True, timeout=60, env=env)

    def test_answer_usage_and_api_key(self):
        Handler.received.clear()
        Handler.reply = (200, {"id": "chatcmpl-1", "object": "chat.completion", "model": "Org/Model",
                               "choices": [{"index": 0, "message": {"role": "assistant", "content": "A ball rolls."},
                                            "finish_reason": "stop"}],
                               "usage": {"prompt_tokens": 812, "completion_tokens": 4, "total_tokens": 816}})
        config = os.path.join(self.tmp.name, "key.json")
        with open(config, "w") as f:
            json.dump({"endpoint": {"api_key_env": "TEST_VLLM_KEY"}}, f)
        r = self.ask(self.endpoint, "--config", config, "--json", env={**os.environ, "TEST_VLLM_KEY": "s3cret"})
        self.assertEqual(r.returncode, 0, r.stderr)
        result = json.loads(r.stdout)
        self.assertEqual(result["answer"], "A ball rolls.")
        self.assertEqual(result["usage"]["prompt_tokens"], 812)
        self.assertEqual(result["plugin"], "native_video")
        self.assertGreater(result["timings"]["total_s"], 0)
        path, auth, body = Handler.received[-1]
        self.assertEqual(path, "/v1/chat/completions")
        self.assertEqual(auth, "Bearer s3cret")
        self.assertEqual(body["model"], "Org/Model")
        self.assertEqual(body["messages"][0]["content"][0]["type"], "video_url")
        self.assertNotIn("s3cret", r.stderr + r.stdout)

        plain = self.ask(self.endpoint)
        self.assertEqual(plain.returncode, 0, plain.stderr)
        self.assertEqual(plain.stdout, "A ball rolls.\n")

    def test_a_closed_port_exits_4_naming_the_url(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]  # closed again when the block ends
        r = self.ask(f"http://127.0.0.1:{port}/v1")
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertIn(f"cannot reach http://127.0.0.1:{port}/v1/chat/completions", r.stderr)


if __name__ == "__main__":
    unittest.main()
