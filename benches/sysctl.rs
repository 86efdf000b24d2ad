//! Criterion benchmarks of the sysctl readers on generated files (`benches/gen`): the streaming
//! reader over a 1M-line file (the 15 M lines/s goal), the in-memory reader the report uses, and
//! one `sysctl -a` dump. `cargo bench --bench sysctl`.

#[path = "gen/mod.rs"]
mod gen;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use twlint::source::SourceMap;
use twlint::sysctl::{self, stream, SourceKind};

fn readers(c: &mut Criterion) {
    let big = gen::sysctl_file(1_000_000);
    let mut g = c.benchmark_group("sysctl-1M-lines");
    g.sample_size(10);
    g.throughput(Throughput::Elements(1_000_000));
    g.bench_function("stream-effective", |b| {
        b.iter(|| stream::effective(black_box(big.as_bytes()), SourceKind::File).unwrap())
    });
    g.bench_function("stream-events", |b| {
        b.iter(|| {
            let mut n = 0u64;
            stream::read(black_box(big.as_bytes()), SourceKind::File, |_| n += 1).unwrap();
            n
        })
    });
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
