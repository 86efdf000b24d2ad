//! JSON snapshots of the report for every reference topology and for the linted host files.
//! The JSON form is the oracle (as in cargo-deny): renderer changes do not churn it, verdict
//! changes do. Review a change with `cargo insta review`, or `INSTA_UPDATE=always cargo test`.

use twlint::judge::{self, Request};
use twlint::render::json;
use twlint::rules::load::load_catalog;
use twlint::source::SourceMap;

#[test]
fn topologies() {
    insta::glob!("../topologies", "*.yaml", |path| {
        let rel = Path::new("topologies").join(path.file_name().unwrap());
        let mut sources = SourceMap::new();
        let (rules, diags) = load_catalog(&[], &mut sources).unwrap();
        assert!(diags.is_empty());
        let loaded = judge::load_topology(&rel, &judge::Options::default(), &mut sources).unwrap();
        let report = judge::judge(
            Request::topology(loaded),
            &judge::Options::default(),
            &rules,
            &mut sources,
        )
        .unwrap();
        assert!(
            !report.fatal,
            "{} does not load: {:?}",
            rel.display(),
            report.diagnostics
        );
        insta::assert_json_snapshot!(twlint::build_info::without_commit(
            serde_json::to_value(json::Json::new(&sources, &report)).unwrap()
        ));
    });
}

#[test]
fn host_files_linted_alone() {
    insta::glob!("../topologies/hosts", "*/sysctl.conf", |path| {
        let host = path.parent().unwrap().file_name().unwrap();
        let rel = Path::new("topologies/hosts").join(host).join("sysctl.conf");
        let mut sources = SourceMap::new();
        let (rules, _) = load_catalog(&[], &mut sources).unwrap();
        let sets = judge::read_sysctl_paths(&[rel], &mut sources).unwrap();
        let report = judge::judge(
            Request::sets(sets),
            &judge::Options::default(),
            &rules,
            &mut sources,
        )
        .unwrap();
        insta::assert_json_snapshot!(twlint::build_info::without_commit(
            serde_json::to_value(json::Json::new(&sources, &report)).unwrap()
        ));
    });
}
