//! Criterion benchmarks of the sysctl reader the binary runs, on generated files (`benches/gen`):
//! a 1M-line file (the 15 M lines/s goal) and one `sysctl -a` dump. `cargo bench --bench sysctl`.

#[path = "gen/mod.rs"]
mod gen;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use twlint::source::SourceMap;
use twlint::sysctl;

fn readers(c: &mut Criterion) {
    let big = gen::sysctl_file(1_000_000);
    let mut g = c.benchmark_group("sysctl-1M-lines");
    g.sample_size(10);
    g.throughput(Throughput::Elements(1_000_000));
    g.bench_function("in-memory", |b| {
        b.iter(|| {
            let mut sources = SourceMap::new();
            sysctl::load_text("big.conf", black_box(&big), &mut sources)
        })
    });
    g.finish();

    let dump = gen::dump(3, 1300);
    let mut g = c.benchmark_group("sysctl-dump-1300-lines");
    g.throughput(Throughput::Elements(1300));
    g.bench_function("is_dump", |b| b.iter(|| sysctl::is_dump(black_box(&dump))));
    g.bench_function("in-memory", |b| {
        b.iter(|| {
            let mut sources = SourceMap::new();
            sysctl::load_text("dump.txt", black_box(&dump), &mut sources)
        })
    });
    g.finish();
}

criterion_group!(benches, readers);
criterion_main!(benches);
