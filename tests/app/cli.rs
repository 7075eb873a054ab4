//! The command line, run as a user would (SQLite in a temporary folder).

use std::process::Command;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_zhouzhouhui"));
    c.env_remove("DATABASE_URL")
        .env_remove("ZZH_ADMIN_PASSWORD")
        .env_remove("ZZH_LISTEN")
        .env("RUST_LOG", "warn");
    c
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("zzh-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn create_admin_works_on_a_fresh_folder_and_demo_refuses_a_second_load() {
    let dir = temp_dir("fresh");
    let out = bin()
        .current_dir(&dir)
        .args(["create-admin", "--username", "root1"])
        .env("ZZH_ADMIN_PASSWORD", "a-long-password")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.join("data/zhouzhouhui.db").exists());
    // The same name twice is a clear error.
    let out = bin()
        .current_dir(&dir)
        .args([
            "create-admin",
            "--username",
            "root1",
            "--password",
            "a-long-password",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("用户名已被使用"));
    // The database has data now: demo refuses.
    let out = bin().current_dir(&dir).arg("demo").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already has data"));

    let empty = temp_dir("demo");
    let out = bin().current_dir(&empty).arg("demo").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("zzh-demo-2026") && text.contains("dispatcher"));
    let out = bin().current_dir(&empty).arg("migrate").output().unwrap();
    assert!(out.status.success());
    // The demo's published meeting tallies all re-derive from its events.
    let out = bin()
        .current_dir(&empty)
        .arg("check-tallies")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("18 published tallies checked, 0 differ"),
        "{text}"
    );
}

#[test]
fn bad_database_urls_and_busy_ports_fail_with_a_message() {
    let dir = temp_dir("bad");
    let out = bin()
        .current_dir(&dir)
        .args(["migrate", "--database-url", "mysql://nope"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid database URL"));
    let out = bin()
        .current_dir(&dir)
        .args([
            "migrate",
            "--database-url",
            "postgres://nobody@127.0.0.1:1/none",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open the database"));
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = bin()
        .current_dir(&dir)
        .args(["serve", "--listen", &addr])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot listen on"));
}
