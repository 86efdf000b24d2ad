//! Reading sysctl text the way procps and systemd-sysctl do, checked end to end: from text or
//! paths through the readers of `crate::inputs` to the effective values `resolve` decides.
//! They live here, above the readers, because most of them look at the winning values.

mod sysctl_conf_grammar {
    use crate::diag::{Diagnostic, Severity, Verdict};
    use crate::source::{SourceMap, Span};
    use crate::sysctl::{load_text, SysctlSet};

    fn lint(text: &str) -> (SourceMap, SysctlSet) {
        let mut sources = SourceMap::new();
        let set = load_text("t.conf", text, &mut sources);
        (sources, set)
    }

    fn line_col(sources: &SourceMap, span: Span) -> (usize, usize) {
        let l = sources.location(span);
        (l.line, l.column)
    }

    fn codes(set: &SysctlSet) -> Vec<&str> {
        set.diagnostics.iter().map(|d| d.code.as_str()).collect()
    }

    fn only<'a>(set: &'a SysctlSet, code: &str) -> &'a Diagnostic {
        let found: Vec<_> = set.diagnostics.iter().filter(|d| d.code == code).collect();
        assert_eq!(found.len(), 1, "{:?}", set.diagnostics);
        found[0]
    }

    #[test]
    fn comments_start_with_hash_or_semicolon_after_blanks_only() {
        let (_, set) = lint("# a\n  ; b\n\t# c = 1\nnet.ipv4.tcp_fin_timeout = 30 # thirty\n");
        let a = &set.files[0].assignments.to_vec();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].key.value, "net.ipv4.tcp_fin_timeout");
        // No trailing comments: the '#' part stays in the value.
        assert_eq!(a[0].value.value, "30 # thirty");
    }

    #[test]
    fn keys_and_values_carry_exact_spans() {
        let (sources, set) = lint("\n  net.ipv4.tcp_tw_reuse\t=  1  \n");
        let a = &set.files[0].assignments.to_vec()[0];
        assert_eq!(sources.slice(a.key.span), "net.ipv4.tcp_tw_reuse");
        assert_eq!(line_col(&sources, a.key.span), (2, 3));
        assert_eq!(sources.slice(a.value.span), "1");
        assert_eq!(line_col(&sources, a.value.span), (2, 28));
        assert_eq!(sources.slice(a.line), "  net.ipv4.tcp_tw_reuse\t=  1  ");
        assert!(!a.ignore_failure && !a.glob);
    }

    #[test]
    fn slash_keys_are_swapped_into_dotted_form() {
        let (sources, set) = lint(
            "net/ipv4/conf/eth0.100/rp_filter = 1\n\
             net.ipv4.conf.eth0/100.arp_filter = 1\n\
             kernel/pid_max = 65536\n",
        );
        let a = &set.files[0].assignments.to_vec();
        assert_eq!(a[0].key.value, "net.ipv4.conf.eth0/100.rp_filter");
        // The span still shows the key as written.
        assert_eq!(
            sources.slice(a[0].key.span),
            "net/ipv4/conf/eth0.100/rp_filter"
        );
        assert_eq!(a[1].key.value, "net.ipv4.conf.eth0/100.arp_filter");
        assert_eq!(a[2].key.value, "kernel.pid_max");
        assert_eq!(
            set.get("net/ipv4/conf/eth0.100/rp_filter")
                .unwrap()
                .value
                .value,
            "1"
        );
    }

    #[test]
    fn inner_blanks_and_tabs_are_kept_outer_ones_stripped() {
        let (sources, set) = lint("net.ipv4.tcp_rmem =\t4096  87380\t6291456 \t\n");
        let v = &set.files[0].assignments.to_vec()[0].value;
        assert_eq!(v.value, "4096  87380\t6291456");
        assert_eq!(sources.slice(v.span), v.value);
    }

    #[test]
    fn crlf_is_not_part_of_the_value_or_the_line() {
        let (sources, set) =
            lint("net.ipv4.tcp_fin_timeout = 35\r\nnet.ipv4.ip_local_port_range = 40000 50000\r\n");
        let a = &set.files[0].assignments.to_vec();
        assert_eq!(a[0].value.value, "35");
        assert_eq!(a[1].value.value, "40000 50000");
        assert_eq!(sources.slice(a[0].line), "net.ipv4.tcp_fin_timeout = 35");
        assert_eq!(line_col(&sources, a[1].key.span), (2, 1));
        assert!(set.diagnostics.is_empty(), "{:?}", set.diagnostics);
    }

    #[test]
    fn the_last_line_needs_no_newline() {
        let (sources, set) = lint("net.ipv4.tcp_fin_timeout = 30\nnet.ipv4.tcp_tw_reuse = 2");
        let a = &set.files[0].assignments.to_vec()[1];
        assert_eq!(a.value.value, "2");
        assert_eq!(line_col(&sources, a.value.span), (2, 25));
    }

    #[test]
    fn empty_value_has_an_empty_span_after_the_equals_sign() {
        let (sources, set) = lint("net.ipv4.tcp_fin_timeout =   \n");
        let v = &set.files[0].assignments.to_vec()[0].value;
        assert_eq!(v.value, "");
        assert_eq!((v.span.start, v.span.end), (26, 26));
        assert_eq!(line_col(&sources, v.span), (1, 27));
    }

    #[test]
    fn leading_dash_marks_ignore_failure_and_is_outside_the_key_span() {
        let (sources, set) = lint("-net.ipv4.tcp_tw_recycle = 0\n - net.ipv4.tcp_tw_reuse = 1\n");
        let a = &set.files[0].assignments.to_vec();
        assert!(a[0].ignore_failure && a[1].ignore_failure);
        assert_eq!(a[0].key.value, "net.ipv4.tcp_tw_recycle");
        assert_eq!(line_col(&sources, a[0].key.span), (1, 2));
        assert_eq!(a[1].key.value, "net.ipv4.tcp_tw_reuse");
        assert_eq!(sources.slice(a[1].key.span), "net.ipv4.tcp_tw_reuse");
    }

    #[test]
    fn blank_after_dash_is_a_divergence() {
        // procps keeps the blank in the key and never applies the line; systemd strips it
        // (tests/differential.rs).
        let (_, set) = lint(" - net.ipv4.tcp_tw_reuse = 1\n-net.ipv4.tcp_timestamps = 1\n");
        let tw010: Vec<_> = set
            .diagnostics
            .iter()
            .filter(|d| d.code == "TW010")
            .collect();
        assert_eq!(tw010.len(), 1);
        assert_eq!(tw010[0].key.as_deref(), Some("net.ipv4.tcp_tw_reuse"));
    }

    #[test]
    fn dash_without_equals_is_an_exclusion() {
        let (sources, set) =
            lint("net.ipv4.conf.*.rp_filter = 2\r\n-net/ipv4/conf/all/rp_filter \r\n");
        let f = &set.files[0];
        assert_eq!(f.assignments.len(), 1);
        assert!(f.assignments.to_vec()[0].glob);
        assert_eq!(f.exclusions.len(), 1);
        let p = &f.exclusions[0].pattern;
        assert_eq!(p.value, "net.ipv4.conf.all.rp_filter");
        assert_eq!(sources.slice(p.span), "net/ipv4/conf/all/rp_filter");
        assert_eq!(line_col(&sources, p.span), (2, 2));
        assert!(set.diagnostics.is_empty());
    }

    #[test]
    fn glob_characters_mark_a_glob_key() {
        let (_, set) = lint(
            "net.ipv4.conf.*.rp_filter = 2\nnet.ipv4.conf.l?.x = 1\nnet.ipv4.conf.[al]*.y = 1\n",
        );
        assert!(set.files[0].assignments.iter().all(|a| a.glob()));
    }

    #[test]
    fn tw001_a_line_without_equals() {
        let (sources, set) = lint("# ok\nnet.ipv4.tcp_tw_reuse 1\nnet.ipv4.tcp_fin_timeout = 30\n");
        let d = only(&set, "TW001");
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(d.verdict, Some(Verdict::Dangerous));
        assert_eq!(d.message, "line is not an assignment");
        assert_eq!(d.key.as_deref(), Some("net.ipv4.tcp_tw_reuse"));
        let label = d.primary.as_ref().unwrap();
        assert_eq!(line_col(&sources, label.span), (2, 1));
        assert_eq!(sources.slice(label.span), "net.ipv4.tcp_tw_reuse 1");
        // The tools skip the line and go on: the next one is still read.
        assert_eq!(
            set.get("net.ipv4.tcp_fin_timeout").unwrap().value.value,
            "30"
        );
        assert!(set.get("net.ipv4.tcp_tw_reuse").is_none());
    }

    #[test]
    fn a_single_character_line_is_skipped_only_without_a_newline() {
        // procps skips lines under two bytes counting the newline.
        let (_, set) = lint("net.ipv4.tcp_fin_timeout = 43\nx");
        assert!(set.diagnostics.is_empty());
        let (sources, set) = lint("x\nnet.ipv4.tcp_fin_timeout = 43\n");
        let d = only(&set, "TW001");
        assert_eq!(line_col(&sources, d.primary.as_ref().unwrap().span), (1, 1));
        assert_eq!(d.key, None);
    }

    #[test]
    fn tw011_empty_key() {
        let (sources, set) = lint("net.ipv4.tcp_fin_timeout = 30\n  = 5\n");
        let d = only(&set, "TW011");
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(sources.slice(d.primary.as_ref().unwrap().span), "=");
        assert_eq!(line_col(&sources, d.primary.as_ref().unwrap().span), (2, 3));
        assert_eq!(set.files[0].assignments.len(), 1);
    }

    #[test]
    fn tw005_hash_or_semicolon_after_a_value() {
        let (sources, set) = lint(
            "net.ipv4.tcp_tw_reuse = 1 # enable\n\
             net.ipv4.ip_local_port_range = 1024 65535 ; wide\n\
             kernel.core_pattern = core#%p\n\
             net.ipv4.tcp_timestamps = 1;\n",
        );
        let found: Vec<_> = set
            .diagnostics
            .iter()
            .filter(|d| d.code == "TW005")
            .collect();
        assert_eq!(found.len(), 3, "{:?}", set.diagnostics);
        let glued = found[2].primary.as_ref().unwrap().span;
        assert_eq!(sources.slice(glued), ";");
        assert_eq!(line_col(&sources, glued), (4, 28));
        assert_eq!(found[0].key.as_deref(), Some("net.ipv4.tcp_tw_reuse"));
        let span = found[0].primary.as_ref().unwrap().span;
        assert_eq!(sources.slice(span), "# enable");
        assert_eq!(line_col(&sources, span), (1, 27));
        assert_eq!(
            sources.slice(found[1].primary.as_ref().unwrap().span),
            "; wide"
        );
        // The value itself keeps the comment, as procps passes it on.
        assert_eq!(
            set.get("net.ipv4.tcp_tw_reuse").unwrap().value.value,
            "1 # enable"
        );
    }

    #[test]
    fn tw008_quoted_values() {
        let (sources, set) = lint(
            "net.ipv4.ip_local_port_range = \"1024 65535\"\n\
             net.ipv4.tcp_tw_reuse = '1'\n\
             net.ipv4.tcp_fin_timeout = 30\n",
        );
        let found: Vec<_> = set
            .diagnostics
            .iter()
            .filter(|d| d.code == "TW008")
            .collect();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].severity, Severity::Error);
        assert_eq!(found[0].verdict, Some(Verdict::Dangerous));
        assert_eq!(
            found[0].key.as_deref(),
            Some("net.ipv4.ip_local_port_range")
        );
        assert_eq!(
            sources.slice(found[0].primary.as_ref().unwrap().span),
            "\"1024 65535\""
        );
        assert_eq!(
            line_col(&sources, found[1].primary.as_ref().unwrap().span),
            (2, 25)
        );
    }

    #[test]
    fn tw012_bom_becomes_part_of_the_first_key() {
        let (sources, set) =
            lint("\u{feff}net.ipv4.tcp_tw_reuse = 2\nnet.ipv4.tcp_fin_timeout = 33\n");
        let d = only(&set, "TW012");
        assert_eq!(d.severity, Severity::Error);
        assert_eq!(d.key.as_deref(), Some("net.ipv4.tcp_tw_reuse"));
        let bom = d.primary.as_ref().unwrap().span;
        assert_eq!((bom.start, bom.end), (0, 3));
        // Like procps and systemd, the key with the mark is not the key without it.
        assert_eq!(
            set.files[0].assignments.to_vec()[0].key.value,
            "\u{feff}net.ipv4.tcp_tw_reuse"
        );
        assert!(set.get("net.ipv4.tcp_tw_reuse").is_none());
        assert_eq!(
            set.get("net.ipv4.tcp_fin_timeout").unwrap().value.value,
            "33"
        );
        assert_eq!(
            line_col(&sources, set.files[0].assignments.to_vec()[1].key.span),
            (2, 1)
        );
    }

    #[test]
    fn tw012_bom_before_a_comment_is_reported_once() {
        let (_, set) = lint("\u{feff}# settings\nnet.ipv4.tcp_fin_timeout = 34\n");
        assert_eq!(codes(&set), ["TW012"]);
        assert_eq!(set.diagnostics[0].key, None);
        assert_eq!(set.files[0].assignments.len(), 1);
    }

    #[test]
    fn a_bom_later_in_the_file_is_no_bom() {
        let (_, set) = lint("net.ipv4.tcp_fin_timeout = 34\n# \u{feff}\n");
        assert!(set.diagnostics.is_empty());
    }

    #[test]
    fn dumps_keep_tabs_give_the_release_and_skip_value_style_checks() {
        let mut text = String::from("kernel.osrelease = 6.8.0-45-generic\n");
        text.push_str("kernel.core_pattern = |/bin/x # %p\n");
        text.push_str("net.ipv4.ip_local_port_range = 32768\t60999\n");
        for i in 0..120 {
            text.push_str(&format!("vm.k{i} = {i}\nfs.k{i} = 1\n"));
        }
        text.push_str("dev.cdrom.info = a\ndev.cdrom.info = b\n");
        let (sources, set) = lint(&text);
        assert!(set.is_dump());
        let release = set.kernel_release().unwrap();
        assert_eq!(release.value, "6.8.0-45-generic");
        assert_eq!(line_col(&sources, release.span), (1, 20));
        assert_eq!(
            set.get("net.ipv4.ip_local_port_range").unwrap().value.value,
            "32768\t60999"
        );
        assert_eq!(
            set.get("vm.k7").unwrap().kind,
            crate::sysctl::SourceKind::Dump
        );
        // No TW005 for host output, no TW006 for a multi-line value.
        assert!(set.diagnostics.is_empty(), "{:?}", set.diagnostics);
    }
}

mod sysctl_system_precedence {
    use crate::error::Error;
    use crate::source::SourceMap;
    use crate::sysctl::{load, SysctlSet, MAX_FILE_SIZE};
    use std::fs;
    use std::os::unix::fs::symlink;
    use std::path::{Path, PathBuf};

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    /// (display path, key) of every assignment, in application order.
    fn applied(set: &SysctlSet, sources: &SourceMap) -> Vec<(String, String)> {
        set.files
            .iter()
            .flat_map(|f| {
                let path = sources.get(f.file).path.clone();
                f.assignments
                    .iter()
                    .map(move |a| (path.clone(), format!("{}={}", a.key(), a.value())))
            })
            .collect()
    }

    fn names(set: &SysctlSet, sources: &SourceMap) -> Vec<String> {
        set.files
            .iter()
            .map(|f| {
                let p = &sources.get(f.file).path;
                Path::new(p)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
    }

    #[test]
    fn folders_give_conf_files_sorted_across_folders_with_masking() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        write(&a.join("20-x.conf"), "net.ipv4.tcp_fin_timeout = 22\n");
        write(&a.join("notes.txt"), "garbage\n");
        write(&a.join("30-y.conf.bak"), "garbage\n");
        write(&a.join("40-z.CONF"), "garbage\n");
        write(&b.join("10-w.conf"), "net.ipv4.tcp_fin_timeout = 11\n");
        write(&b.join("20-x.conf"), "net.ipv4.tcp_fin_timeout = 99\n");
        write(&b.join("50-v.conf"), "net.ipv4.tcp_fin_timeout = 55\n");
        symlink("/dev/null", a.join("50-v.conf")).unwrap();
        let extra = tmp.path().join("extra.conf");
        write(&extra, "net.ipv4.tcp_tw_reuse = 1\n");
        let mut sources = SourceMap::new();
        let set = load(&[extra.clone(), a.clone(), b.clone()], &mut sources).unwrap();
        assert_eq!(
            names(&set, &sources),
            ["10-w.conf", "20-x.conf", "extra.conf"]
        );
        assert!(sources.get(set.files[1].file).path.ends_with("a/20-x.conf"));
        let s = set.get("net.ipv4.tcp_fin_timeout").unwrap();
        assert_eq!(s.value.value, "22");
        assert_eq!(applied(&set, &sources).len(), 3);
        // The two drop-ins set the key twice across files.
        let d: Vec<_> = set
            .diagnostics
            .iter()
            .filter(|d| d.code == "TW006")
            .collect();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].primary.as_ref().unwrap().span.file, set.files[0].file);
        assert_eq!(d[0].secondary[0].span.file, set.files[1].file);
    }

    #[test]
    fn a_root_folder_is_read_like_sysctl_system() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write(
            &root.join("usr/lib/sysctl.d/10-a.conf"),
            "net.ipv4.tcp_fin_timeout = 11\n",
        );
        write(
            &root.join("etc/sysctl.d/10-a.conf"),
            "net.ipv4.tcp_fin_timeout = 22\nnet.ipv4.tcp_tw_reuse = 0\n",
        );
        write(
            &root.join("usr/lib/sysctl.d/20-b.conf"),
            "net.ipv4.tcp_fin_timeout = 33\n",
        );
        write(
            &root.join("usr/lib/sysctl.d/30-c.conf"),
            "net.ipv4.tcp_tw_reuse = 1\n",
        );
        fs::create_dir_all(root.join("run/sysctl.d")).unwrap();
        symlink("/dev/null", root.join("run/sysctl.d/30-c.conf")).unwrap();
        write(
            &root.join("etc/sysctl.conf"),
            "net.ipv4.tcp_fin_timeout = 44\n",
        );
        // An absolute link inside the image must not lead to the host's /usr/lib/sysctl.d.
        symlink("/usr/lib", root.join("lib")).unwrap();
        let mut sources = SourceMap::new();
        let set = load(&[root.to_path_buf()], &mut sources).unwrap();
        assert_eq!(
            names(&set, &sources),
            ["10-a.conf", "20-b.conf", "sysctl.conf"]
        );
        // Same end state as `sysctl --system` on procps-ng 4.0.2 for this tree.
        assert_eq!(
            set.get("net.ipv4.tcp_fin_timeout").unwrap().value.value,
            "44"
        );
        assert_eq!(set.get("net.ipv4.tcp_tw_reuse").unwrap().value.value, "0");
        // systemd-sysctl, which does not read etc/sysctl.conf here, ends at 33.
        let d: Vec<_> = set
            .diagnostics
            .iter()
            .filter(|d| d.code == "TW010")
            .collect();
        assert_eq!(d.len(), 1, "{:?}", set.diagnostics);
        assert_eq!(d[0].key.as_deref(), Some("net.ipv4.tcp_fin_timeout"));
        assert_eq!(d[0].primary.as_ref().unwrap().span.file, set.files[2].file);
        assert_eq!(d[0].secondary[0].span.file, set.files[1].file);
        assert_eq!(
            sources.slice(d[0].secondary[0].span),
            "net.ipv4.tcp_fin_timeout = 33"
        );
    }

    #[test]
    fn debian_link_to_sysctl_conf_is_read_once_and_agrees_with_systemd() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write(
            &root.join("etc/sysctl.d/10-a.conf"),
            "net.ipv4.tcp_fin_timeout = 22\n",
        );
        write(
            &root.join("etc/sysctl.conf"),
            "net.ipv4.tcp_fin_timeout = 44\nvm.swappiness = 5\n",
        );
        symlink("../sysctl.conf", root.join("etc/sysctl.d/99-sysctl.conf")).unwrap();
        let mut sources = SourceMap::new();
        let set = load(&[root.to_path_buf()], &mut sources).unwrap();
        assert_eq!(names(&set, &sources), ["10-a.conf", "sysctl.conf"]);
        assert_eq!(
            set.get("net.ipv4.tcp_fin_timeout").unwrap().value.value,
            "44"
        );
        assert!(
            set.diagnostics.iter().all(|d| d.code == "TW006"),
            "{:?}",
            set.diagnostics
        );
        assert_eq!(set.diagnostics.len(), 1);

        // A drop-in after the link: systemd ends with it, procps with sysctl.conf.
        write(
            &root.join("etc/sysctl.d/99-zz.conf"),
            "net.ipv4.tcp_fin_timeout = 66\n",
        );
        let mut sources = SourceMap::new();
        let set = load(&[root.to_path_buf()], &mut sources).unwrap();
        let d: Vec<_> = set
            .diagnostics
            .iter()
            .filter(|d| d.code == "TW010")
            .collect();
        assert_eq!(d.len(), 1);
        assert!(d[0].message.contains("`44` and `66`"), "{}", d[0].message);
    }

    #[test]
    fn explicit_sysctl_conf_after_a_folder_diverges_from_systemd() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("sysctl.d");
        write(
            &dir.join("50-a.conf"),
            "net.ipv4.tcp_tw_reuse = 2\nvm.swappiness = 1\n",
        );
        let conf = tmp.path().join("sysctl.conf");
        write(&conf, "net.ipv4.tcp_tw_reuse = 1\nvm.swappiness = 1\n");
        let mut sources = SourceMap::new();
        let set = load(&[conf, dir], &mut sources).unwrap();
        assert_eq!(names(&set, &sources), ["50-a.conf", "sysctl.conf"]);
        let d: Vec<_> = set
            .diagnostics
            .iter()
            .filter(|d| d.code == "TW010")
            .collect();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].key.as_deref(), Some("net.ipv4.tcp_tw_reuse"));
    }

    #[test]
    fn special_missing_and_huge_files_are_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let mut sources = SourceMap::new();
        let missing = tmp.path().join("nope.conf");
        assert!(matches!(
            load(&[missing], &mut sources),
            Err(Error::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound
        ));
        assert!(matches!(
            load(&[PathBuf::from("/dev/zero")], &mut sources),
            Err(Error::NotReadable { .. })
        ));
        let fifo = tmp.path().join("fifo.conf");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        // Inside a folder too: it must be refused, not opened (which would block).
        assert!(matches!(
            load(&[tmp.path().to_path_buf()], &mut sources),
            Err(Error::NotReadable { .. })
        ));
        let big = tmp.path().join("big");
        fs::File::create(&big)
            .unwrap()
            .set_len(MAX_FILE_SIZE + 1)
            .unwrap();
        assert!(matches!(
            load(&[big], &mut sources),
            Err(Error::TooLarge { limit, .. }) if limit == MAX_FILE_SIZE
        ));
    }

    #[test]
    fn invalid_utf8_is_read_lossily() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.conf");
        fs::write(
            &path,
            b"net.ipv4.tcp_fin_timeout = 44\n\xff\xfe = 1\nnet.ipv4.tcp_tw_reuse = 0",
        )
        .unwrap();
        let mut sources = SourceMap::new();
        let set = load(&[path], &mut sources).unwrap();
        let keys: Vec<_> = set.files[0].assignments.iter().map(|a| a.key()).collect();
        assert_eq!(
            keys,
            [
                "net.ipv4.tcp_fin_timeout",
                "\u{fffd}\u{fffd}",
                "net.ipv4.tcp_tw_reuse"
            ]
        );
        assert_eq!(
            sources
                .location(set.files[0].assignments.to_vec()[2].key.span)
                .line,
            3
        );
    }

    /// Every real-world file of the shared corpus parses without a panic, and every span points
    /// at the text it claims. Run with `cargo test -- --ignored corpus`.
    #[test]
    #[ignore = "needs ../shared/corpus/real"]
    fn corpus_parses_and_spans_hold() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/real");
        let Ok(listing) = fs::read_dir(&dir) else {
            return;
        };
        let mut files = 0;
        for entry in listing {
            let path = entry.unwrap().path();
            let mut sources = SourceMap::new();
            let set = load(std::slice::from_ref(&path), &mut sources).unwrap();
            files += 1;
            for f in &set.files {
                for a in &f.assignments {
                    let key = sources.slice(a.key_span());
                    assert_eq!(a.key(), crate::sysctl::normalize_key(key), "{path:?}");
                    assert_eq!(sources.slice(a.value_span()), a.value(), "{path:?}");
                    assert!(
                        a.line().start <= a.key_span().start && a.value_span().end <= a.line().end
                    );
                }
            }
            for d in &set.diagnostics {
                let first = d.message.chars().next().unwrap();
                assert!(
                    !first.is_uppercase() && !d.message.ends_with('.'),
                    "{}",
                    d.message
                );
            }
        }
        assert!(files > 0);
    }

    /// A million lines parse and resolve in well under a second in release mode (about 0.5 s on
    /// the development machine). Run with `cargo test --release -- --ignored million`.
    #[test]
    #[ignore = "timing; meaningful in release mode only"]
    fn a_million_lines_parse_in_linear_time() {
        let mut text = String::with_capacity(40 << 20);
        for i in 0..1_000_000 {
            match i % 4 {
                0 => text.push_str("# a comment line\n"),
                1 => text.push_str(&format!("net.ipv4.conf.if{i}.rp_filter = {}\n", i % 3)),
                2 => text.push_str(&format!("net.ipv4.neigh.if{i}.gc_stale_time = 60\n")),
                _ => text.push_str(&format!("net.ipv4.conf.*.k{i} = 4096\t{i} 6291456\n")),
            }
        }
        let start = std::time::Instant::now();
        let mut sources = SourceMap::new();
        let set = crate::sysctl::load_text("big.conf", &text, &mut sources);
        let elapsed = start.elapsed();
        assert_eq!(set.files[0].assignments.len(), 750_000);
        assert_eq!(set.explicit().count(), 500_000);
        assert!(elapsed.as_millis() < 1000, "{elapsed:?}");
    }
}
