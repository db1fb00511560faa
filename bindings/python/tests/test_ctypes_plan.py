"""The Python host's path into a plugin: ctypes, the header's layout, nothing else."""

import os
import subprocess
import tempfile
import unittest

import jarvis_vision as jv

PLUGIN_DIR = os.environ["JARVIS_PLUGIN_DIR"]
FIXTURE_DIR = os.environ["JARVIS_FIXTURE_PLUGIN_DIR"]


class CtypesPlanTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.video = os.path.join(cls.tmp.name, "clip.mp4")
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                        "testsrc2=size=320x240:rate=25", "-t", "2", "-c:v", "libx264", cls.video], check=True)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_native_video_plans_a_request(self):
        plugin = jv.Plugin(os.path.join(PLUGIN_DIR, "native_video.so"))
        self.assertEqual(plugin.name, "native_video")
        self.assertEqual(plugin.abi, "1.0")
        stages = []
        with plugin.create_provider({"endpoint": {"base_url": "http://127.0.0.1:8000/v1"}}) as provider:
            plan = provider.plan({"video": self.video, "prompt": "What moves?",
                                  "loadout": "vllm://Org/Model#nativevideo#delivery=data#max_tokens=64"},
                                 on_progress=lambda stage, f: stages.append(stage))
        self.assertEqual(plan["plugin"], "native_video")
        self.assertEqual(plan["request"]["model"], "Org/Model")
        self.assertEqual(plan["request"]["max_tokens"], 64)
        parts = plan["request"]["messages"][0]["content"]
        self.assertEqual(parts[0]["type"], "video_url")
        self.assertTrue(parts[0]["video_url"]["url"].startswith("data:video/mp4;base64,"))
        self.assertEqual((plan["media"]["width"], plan["media"]["height"]), (320, 240))
        self.assertGreater(plan["estimate"]["visual_tokens"], 0)
        self.assertIn("probe", stages)

    def test_errors_arrive_as_codes_and_messages(self):
        plugin = jv.Plugin(os.path.join(PLUGIN_DIR, "native_video.so"))
        with plugin.create_provider() as provider:
            with self.assertRaises(jv.VisionError) as caught:
                provider.plan({"video": "/no/such/video.mp4", "prompt": "x", "loadout": "vllm://m#nativevideo"})
        self.assertEqual(caught.exception.code, jv.E_MEDIA)
        self.assertIn("/no/such/video.mp4", str(caught.exception))

        with self.assertRaises(jv.VisionError) as caught:
            plugin.create_provider({"endpoint": {"timeout_s": "soon"}})
        self.assertEqual(caught.exception.code, jv.E_INVALID_ARGUMENT)
        self.assertIn("endpoint.timeout_s", str(caught.exception))

        thrower = jv.Plugin(os.path.join(FIXTURE_DIR, "throwing.so"))
        with thrower.create_provider() as provider:
            with self.assertRaises(jv.VisionError) as caught:
                provider.plan({})
        self.assertEqual(caught.exception.code, jv.E_INTERNAL)
        self.assertIn("plan failed on purpose", str(caught.exception))

    def test_streaming_logs_and_cancellation_through_callbacks(self):
        lines = []
        plugin = jv.Plugin(os.path.join(FIXTURE_DIR, "echo_plugin.so"))
        with plugin.create_provider({}, log=lambda level, line: lines.append(line)) as provider:
            pieces = []
            self.assertEqual(provider.ask({"a": 1, "b": 2}, on_text=pieces.append), {"answer": "done"})
            self.assertEqual("".join(pieces), '{"a": 1, "b": 2}')
            with self.assertRaises(jv.VisionError) as caught:
                provider.ask({"a": 1, "b": 2}, on_text=pieces.append, is_cancelled=lambda: True)
            self.assertEqual(caught.exception.code, jv.E_CANCELLED)
        self.assertEqual(lines, ["echo provider created"])

    def test_a_library_that_is_not_a_plugin_is_refused_with_the_reason(self):
        with self.assertRaisesRegex(jv.PluginLoadError, "does not export jarvis_vision_plugin"):
            jv.Plugin(os.path.join(FIXTURE_DIR, "no_entry_point.so"))
        with self.assertRaisesRegex(jv.PluginLoadError, "refuses ABI major 1"):
            jv.Plugin(os.path.join(FIXTURE_DIR, "refuses_major.so"))


if __name__ == "__main__":
    unittest.main()
