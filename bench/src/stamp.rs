//! Provenance stamped into the files a scenario writes beside its Markdown report, so a
//! `.hgrm` or `.svg` found on its own still names the command, commit, machine and date.

use hdrhistogram::Histogram;

use crate::{
    hgrm::format_hgrm,
    plot::{escape, render_svg, Series},
    report::Provenance,
};

/// `h`'s percentile distribution (`.hgrm`, values in µs), with the provenance in `#` comment
/// lines after the footer, which HdrHistogram's plotter ignores.
pub fn hgrm_file(h: &Histogram<u64>, provenance: &Provenance) -> String {
    format!("{}{}", format_hgrm(h), hgrm_comment(provenance))
}

/// The provenance as `.hgrm` comment lines, one per Markdown bullet.
fn hgrm_comment(p: &Provenance) -> String {
    p.to_markdown()
        .lines()
        .map(|l| format!("#{}\n", l.trim_start_matches('-')))
        .collect()
}

/// A percentile plot of `series` titled `name`, with the commit, CPU and date under the
/// title and the full provenance in a `<desc>` element.
pub fn svg_file(name: &str, series: &[Series<'_>], provenance: &Provenance) -> String {
    let title = format!(
        "{name} · {} · {} · {}",
        provenance.commit, provenance.machine.cpu_model, provenance.date
    );
    let svg = render_svg(&title, series);
    // Provenance goes in a <desc> element, escaped: the command line holds `--`, which an
    // XML comment may not contain.
    svg.replacen(
        "<rect",
        &format!(
            "<desc>\n{}</desc>\n<rect",
            escape(&provenance.to_markdown())
        ),
        1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Machine;

    fn provenance() -> Provenance {
        Provenance {
            date: "2026-01-02 03:04:05 UTC".to_owned(),
            commit: "abc123".to_owned(),
            args: "ring --out latency-reports/ring.md".to_owned(),
            machine: Machine {
                cpu_model: "Test CPU <1>".to_owned(),
                logical_cores: 2,
                kernel: "6.0".to_owned(),
                virtualised: false,
            },
        }
    }

    fn histogram() -> Histogram<u64> {
        let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).unwrap();
        for v in 1..=1000u64 {
            h.record(v * 10).unwrap();
        }
        h
    }

    #[test]
    fn hgrm_ends_with_the_provenance_as_comments() {
        let text = hgrm_file(&histogram(), &provenance());
        let tail: Vec<&str> = text.lines().rev().take(4).collect();
        assert_eq!(
            tail,
            vec![
                "# Command: `cargo run --release -p tickpipe-bench -- ring --out latency-reports/ring.md`",
                "# Machine: Test CPU <1>, 2 logical cores, Linux 6.0",
                "# Commit: `abc123`",
                "# Date: 2026-01-02 03:04:05 UTC",
            ]
        );
        assert!(text.contains("Total count    =         1000]"));
    }

    #[test]
    fn svg_carries_the_provenance_escaped() {
        let h = histogram();
        let svg = svg_file(
            "ring",
            &[Series {
                label: "q".to_owned(),
                histogram: &h,
            }],
            &provenance(),
        );
        assert!(svg.contains("<desc>\n- Date: 2026-01-02 03:04:05 UTC\n"));
        assert!(svg.contains("-- ring --out latency-reports/ring.md"));
        assert!(svg.contains("abc123 · Test CPU &lt;1&gt; · 2026-01-02"));
        assert!(!svg.contains("<!--"));
        assert_eq!(svg.matches("<desc>").count(), 1);
    }
}
