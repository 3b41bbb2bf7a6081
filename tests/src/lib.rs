//! Helpers for the end-to-end tests: the example plugins built for
//! wasm32-wasip2, and the `spleis` binary.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the repository root")
        .to_path_buf()
}

/// Builds every example plugin (once per test process; cargo makes
/// concurrent builds from other test processes wait) and returns the
/// directory holding the `.wasm` files.
pub fn plugins_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = repo_root();
        let target = root.join("example-plugins").join("target");
        let status = Command::new(env!("CARGO"))
            .args([
                "build",
                "--release",
                "--target",
                "wasm32-wasip2",
                "--manifest-path",
            ])
            .arg(root.join("example-plugins").join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&target)
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the example plugins failed");
        target.join("wasm32-wasip2").join("release")
    })
}

/// The bytes of the example plugin `name` (its crate name with `_`).
pub fn plugin(name: &str) -> Vec<u8> {
    let path = plugins_dir().join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The path of the example plugin `name`.
pub fn plugin_path(name: &str) -> PathBuf {
    plugins_dir().join(format!("{name}.wasm"))
}

/// The `spleis` binary, built if the test run did not build it already.
pub fn spleis_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        // Test executables live in target/<profile>/deps; the binary one up.
        let exe = std::env::current_exe().expect("the test knows its path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("test binaries sit in target/<profile>/deps");
        let bin = profile_dir.join(format!("spleis{}", std::env::consts::EXE_SUFFIX));
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "spleis-host", "--bin", "spleis"])
            .current_dir(repo_root())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the spleis binary failed");
        assert!(bin.exists(), "no binary at {}", bin.display());
        bin
    })
}

/// Runs `spleis` with `args`; returns (exit code, stdout, stderr).
pub fn spleis(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(spleis_bin())
        .args(args)
        .output()
        .expect("spleis runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `spleis run ... --json` and parses its document.
pub fn spleis_run_json(args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    all.push("--json");
    let (code, stdout, stderr) = spleis(&all);
    let doc = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("spleis run printed no JSON ({e}); stderr: {stderr}"));
    (code, doc)
}
