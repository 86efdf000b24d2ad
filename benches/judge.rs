//! Criterion benchmarks of judging, in the library (no process start): one dump, compiling the
//! rule catalog, and generated topologies of 250 to 2,000 nodes with five links per node.
//! `cargo bench --bench judge`.

#[path = "gen/mod.rs"]
mod gen;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use twlint::judge::{self, Request};
use twlint::rules::load::load_catalog;
use twlint::source::SourceMap;

fn judge(c: &mut Criterion) {
    let rules = {
        let mut sources = SourceMap::new();
        load_catalog(&[], &mut sources).unwrap().0
    };
    c.bench_function("catalog-compile", |b| {
        b.iter(|| {
            let mut sources = SourceMap::new();
            load_catalog(&[], &mut sources).unwrap()
        })
    });
    let dump = gen::dump(3, 1300);
    c.bench_function("lint-one-dump", |b| {
        b.iter(|| {
            let mut sources = SourceMap::new();
            let set = twlint::sysctl::load_text("dump.txt", black_box(&dump), &mut sources);
            let req = Request::sets(vec![("dump.txt".to_string(), set)]);
            judge::judge(req, &judge::Options::default(), &rules, &mut sources).unwrap()
        })
    });
    let dir = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("topology");
    g.sample_size(10);
    for nodes in [250usize, 500, 1000, 2000] {
        let text = gen::topology(nodes, nodes * 5);
        g.throughput(Throughput::Elements(nodes as u64));
        g.bench_with_input(BenchmarkId::from_parameter(nodes), &text, |b, text| {
            b.iter(|| {
                let mut sources = SourceMap::new();
                let loaded = twlint::topology::load_text("t.yaml", dir.path(), text, &mut sources);
                let req = Request::topology(loaded);
                let r =
                    judge::judge(req, &judge::Options::default(), &rules, &mut sources).unwrap();
                assert!(!r.fatal);
                r
            })
        });
    }
    g.finish();
}

criterion_group!(benches, judge);
criterion_main!(benches);
