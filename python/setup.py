"""Build step of `pip install ./python`: builds libntkit_c with the Swift toolchain
(release, Swift runtime linked statically) and ships it inside the package as
ntkit/_native/libntkit_c.so. No CPython extension is compiled: ntkit loads it with ctypes.

Environment: SWIFT (the swift executable, default `swift` on PATH),
NTKIT_PREBUILT_LIBRARY (ship this already-built libntkit_c.so instead of building).
"""

import os
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


class BuildWithSwift(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib) / "ntkit" / "_native"
        target.mkdir(parents=True, exist_ok=True)
        prebuilt = os.environ.get("NTKIT_PREBUILT_LIBRARY")
        if prebuilt:
            library = Path(prebuilt)
        else:
            if not (ROOT / "Package.swift").is_file():
                raise SystemExit(f"ntkit: {ROOT}/Package.swift not found; install from the NTKit repository "
                                 "(pip install ./python) or set NTKIT_PREBUILT_LIBRARY")
            swift = os.environ.get("SWIFT") or shutil.which("swift") or "/opt/swift/usr/bin/swift"
            scratch = ROOT / ".build-py"
            command = [swift, "build", "-c", "release", "--product", "ntkit_c", "--scratch-path", str(scratch),
                       "-Xswiftc", "-static-stdlib"]
            print("ntkit: " + " ".join(command), flush=True)
            subprocess.run(command, cwd=ROOT, check=True)
            library = scratch / "release" / "libntkit_c.so"
        if not library.is_file():
            raise SystemExit(f"ntkit: {library} was not built")
        shutil.copy2(library, target / "libntkit_c.so")


setup(cmdclass={"build_py": BuildWithSwift})
