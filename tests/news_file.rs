//! `feed.news_file` as a user meets it: a JSON-lines file another program appends to,
//! read at the start and followed while `tickpipe run` trades.

mod common;

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use common::control::Client;

fn dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tickpipe-news-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `tickpipe run` in `dir` with a config whose `[feed]` holds `feed`, writing the JSON
/// summary to `dir/summary.json`.
fn tickpipe(dir: &Path, feed: &str, args: &[&str]) -> Command {
    let config = dir.join("config.toml");
    std::fs::write(&config, format!("[feed]\n{feed}\n")).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tickpipe"));
    cmd.current_dir(dir)
        .args([
            "run",
            "--quiet",
            "--no-journal",
            "--run-dir",
            "var",
            "--config",
        ])
        .arg(&config)
        .arg("--summary-json")
        .arg(dir.join("summary.json"))
        .args(args);
    cmd
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn items_in_the_file_join_the_day_and_bad_lines_are_named_and_skipped() {
    let plain = dir("plain");
    let out = tickpipe(&plain, "duration = \"30m\"", &[])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let synthetic_news = summary(&plain)["market"]["news"].as_u64().unwrap();

    let with = dir("with");
    std::fs::write(
        with.join("news.jsonl"),
        concat!(
            r#"{"time":"2026-11-25T09:20:00+05:30","symbol":"RELIANCE","sentiment":0.9,"headline":"order win"}"#,
            "\n",
            r#"{"time":"2026-11-25T09:21:00+05:30","symbol":"NOPE","sentiment":0.9}"#,
            "\n",
            r#"{"symbol":"INFY","sentiment":-0.7}"#,
            "\n",
        ),
    )
    .unwrap();
    let out = tickpipe(&with, "duration = \"30m\"\nnews_file = \"news.jsonl\"", &[])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "news file: bad line skipped file=\"news.jsonl\" line=2 error=\"no instrument `NOPE`"
        ),
        "{stderr}"
    );
    let v = summary(&with);
    assert_eq!(v["market"]["news"].as_u64().unwrap(), synthetic_news + 2);
    assert_eq!(v["news_file"]["preloaded"], 2);
    assert_eq!(v["news_file"]["rejected"], 1);
    assert_eq!(v["news_file"]["appended"], 0);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout
            .contains("news file news.jsonl: 2 items at the start, 0 appended, 1 bad line skipped"),
        "{stdout}"
    );
}

/// The feed's news counter, from the `metrics` reply.
fn news_total(client: &mut Client) -> u64 {
    let reply = client.ok("metrics");
    let text = reply["text"].as_str().unwrap_or_default().to_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("tickpipe_feed_news_total "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no feed news counter in {reply}"))
}

#[test]
fn lines_appended_while_the_engine_runs_reach_it() {
    let d = dir("appended");
    let news = d.join("news.jsonl");
    let _ = std::fs::remove_file(&news); // the service has not written anything yet
    let mut child = tickpipe(&d, "news_file = \"news.jsonl\"", &["--speed", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // However long start-up takes on a busy host: wait for the socket, or for the engine
    // to stop without serving it. (Its output is short and read after it exits.)
    let socket = d.join("var/tickpipe.sock");
    while std::os::unix::net::UnixStream::connect(&socket).is_err() {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            panic!(
                "the engine stopped ({status}) before it served its socket:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut client = Client::connect(&socket);
    let before = news_total(&mut client);
    let mut file = std::fs::File::create(&news).unwrap();
    writeln!(
        file,
        r#"{{"symbol":"TCS","sentiment":0.8,"headline":"buyback"}}"#
    )
    .unwrap();
    writeln!(file, "{{oops").unwrap();
    file.flush().unwrap();
    // No deadline: the file is followed at the pace the host allows (the run is paced in
    // real time for hours, so an item that never arrives hangs the test rather than a slow
    // host failing it). The pause only spaces the polls out.
    let mut seen = news_total(&mut client);
    while seen == before {
        std::thread::sleep(Duration::from_millis(20));
        seen = news_total(&mut client);
    }
    assert_eq!(seen, before + 1, "the appended item reached the feed");
    drop(client);
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("line=2 error=\"not a news object"),
        "{stderr}"
    );
    let v = summary(&d);
    assert_eq!(v["news_file"]["appended"], 1);
    assert_eq!(v["news_file"]["rejected"], 1);
}
