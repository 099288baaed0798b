//! The round-trip latency files written beside the ring report: one `.hgrm` per queue and
//! one SVG plotting every queue's percentile curve, each stamped with the run's provenance.
//!
//! Each queue's file holds all its repetitions' round trips merged into one histogram, so
//! its percentiles are over every sample of the run (the report's table gives the median
//! of the per-rep percentiles instead; the two differ slightly).

use hdrhistogram::Histogram;

use crate::{
    plot::Series,
    report::Provenance,
    stamp::{hgrm_file, svg_file},
    stats::merge_all,
};

/// The plot's file name.
pub const SVG_NAME: &str = "ping-pong.svg";

/// The plot's title.
const TITLE: &str = "ring ping-pong round trip";

/// The `.hgrm` file name of `queue`'s round trips: `ping-pong.<queue>.hgrm`, spaces as `_`.
pub fn hgrm_name(queue: &str) -> String {
    format!("ping-pong.{}.hgrm", queue.replace(' ', "_"))
}

/// The files, as (name, contents): one `.hgrm` per queue, in the order given, from its reps'
/// histograms merged, then the SVG with one curve per queue.
pub fn latency_files(
    queues: &[(&str, &[Histogram<u64>])],
    provenance: &Provenance,
) -> Vec<(String, String)> {
    let merged: Vec<(&str, Histogram<u64>)> = queues
        .iter()
        .map(|(name, reps)| (*name, merge_all(reps.iter())))
        .collect();
    let mut files: Vec<(String, String)> = merged
        .iter()
        .map(|(name, h)| (hgrm_name(name), hgrm_file(h, provenance)))
        .collect();
    let reps = queues.iter().map(|(_, r)| r.len()).max().unwrap_or(0);
    let series: Vec<Series<'_>> = merged
        .iter()
        .map(|(name, h)| Series {
            label: format!("{name} ({reps} reps merged, {} round trips)", h.len()),
            histogram: h,
        })
        .collect();
    files.push((SVG_NAME.to_owned(), svg_file(TITLE, &series, provenance)));
    files
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Machine;

    fn histogram(values: impl IntoIterator<Item = u64>) -> Histogram<u64> {
        let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).unwrap();
        for v in values {
            h.record(v).unwrap();
        }
        h
    }

    #[test]
    fn one_merged_hgrm_per_queue_and_one_plot_of_all() {
        let provenance = Provenance {
            date: "2026-01-02 03:04:05 UTC".to_owned(),
            commit: "abc123".to_owned(),
            args: "ring --out latency-reports/ring.md".to_owned(),
            machine: Machine {
                cpu_model: "Test CPU".to_owned(),
                logical_cores: 2,
                kernel: "6.0".to_owned(),
                virtualised: true,
            },
        };
        let floor = [histogram(300..400), histogram(250..300)];
        let ours = [histogram([1_000, 2_000, 3_000]), histogram([5_000_000])];
        let files = latency_files(
            &[
                ("raw atomic floor", &floor),
                ("crossbeam ArrayQueue", &ours),
            ],
            &provenance,
        );
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "ping-pong.raw_atomic_floor.hgrm",
                "ping-pong.crossbeam_ArrayQueue.hgrm",
                "ping-pong.svg"
            ]
        );
        // Every rep's samples are in the merged file, the second rep's max included.
        assert!(files[0].1.contains("Total count    =          150]"));
        assert!(files[1].1.contains("Total count    =            4]"));
        assert!(
            files[1].1.contains("#[Max     =     5001.215"),
            "{}",
            files[1].1
        );
        assert!(files[1].1.contains("\n# Commit: `abc123`\n"));
        let svg = &files[2].1;
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("ring ping-pong round trip</text>"));
        assert!(svg.contains("crossbeam ArrayQueue (2 reps merged, 4 round trips)"));
        assert!(svg.contains("<desc>"));
    }
}
