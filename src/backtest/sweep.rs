//! Parameter sweeps: a grid of strategy settings, each backtested over the same bars,
//! and one results table; split into shards for machines that share nothing, and
//! merged back into the same table.
//!
//! Each point runs under the sweep's risk profile: `none` ([`figure_cells`] of a bar
//! run's [`Stats`](super::Stats)) or `configured` ([`session_figure_cells`] of the bars
//! through the whole pipeline, net of the Indian charges); the table's columns are the
//! same, a figure the profile has no way to measure left empty, and `sweep.json` and
//! `sweep.md` say which profile ran and why.
//!
//! A grid is the product of its axes (`--sweep k=a..b:step`, the first axis varying
//! slowest); point `p` (from 0) belongs to shard `K/N` when `p mod N = K − 1`, so every
//! shard gets a fair share whatever the grid's shape and N shards cover it once. Every
//! row carries its point number, and the table is in point order, so shards merged
//! give byte for byte the files of one unsharded run.

use std::{fmt, fmt::Write as _, path::Path, str::FromStr};

use serde_json::{json, Value};

use super::{session_output::CONFIGURED_RISK, session_stats::SessionStats};

/// One axis of a grid: a parameter and its values, `a, a+step, …` up to `b` inclusive,
/// computed in exact decimals (`0.1..0.3:0.1` is 0.1, 0.2, 0.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepAxis {
    /// The parameter's key.
    pub key: String,
    /// The values, as text (no trailing zeros).
    pub values: Vec<String>,
    /// The axis as written, `k=a..b:step`.
    pub spec: String,
}

/// The most points a grid may have: a sweep is meant for a scheduler past that.
pub const MAX_POINTS: usize = 1_000_000;

/// A decimal as an integer count of `10^-decimals`.
fn scaled(text: &str, decimals: u32) -> Option<i128> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if frac.len() as u32 > decimals || (int.is_empty() && frac.is_empty()) {
        return None;
    }
    let negative = int.starts_with('-');
    let digits = int.trim_start_matches(['-', '+']);
    if !digits
        .chars()
        .chain(frac.chars())
        .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let whole: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    let mut frac_value: i128 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    frac_value *= 10i128.checked_pow(decimals - frac.len() as u32)?;
    let value = whole.checked_mul(10i128.checked_pow(decimals)?)? + frac_value;
    Some(if negative { -value } else { value })
}

fn decimals_of(text: &str) -> u32 {
    text.split_once('.').map_or(0, |(_, f)| f.len() as u32)
}

fn unscaled(value: i128, decimals: u32) -> String {
    if decimals == 0 {
        return value.to_string();
    }
    let unit = 10i128.pow(decimals);
    let sign = if value < 0 { "-" } else { "" };
    let v = value.abs();
    let text = format!(
        "{sign}{}.{:0width$}",
        v / unit,
        v % unit,
        width = decimals as usize
    );
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

impl FromStr for SweepAxis {
    type Err = String;

    /// `k=a..b:step`, with `a ≤ b` and `step > 0`.
    fn from_str(spec: &str) -> Result<SweepAxis, String> {
        let bad = |why: &str| format!("--sweep {spec}: {why}; expected key=a..b:step");
        let (key, range) = spec.split_once('=').ok_or_else(|| bad("no `=`"))?;
        let (range, step) = range.split_once(':').ok_or_else(|| bad("no `:step`"))?;
        let (a, b) = range.split_once("..").ok_or_else(|| bad("no `a..b`"))?;
        let (key, a, b, step) = (key.trim(), a.trim(), b.trim(), step.trim());
        if key.is_empty() {
            return Err(bad("no key"));
        }
        let decimals = decimals_of(a).max(decimals_of(b)).max(decimals_of(step));
        if decimals > 12 {
            return Err(bad("more than 12 decimals"));
        }
        let number =
            |t: &str| scaled(t, decimals).ok_or_else(|| bad(&format!("`{t}` is not a number")));
        let (a, b, step) = (number(a)?, number(b)?, number(step)?);
        if step <= 0 {
            return Err(bad("the step must be above 0"));
        }
        if a > b {
            return Err(bad("the range must not be empty (a ≤ b)"));
        }
        let count = (b - a) / step + 1;
        if count > MAX_POINTS as i128 {
            return Err(bad(&format!("{count} values, more than {MAX_POINTS}")));
        }
        let values = (0..count)
            .map(|i| unscaled(a + i * step, decimals))
            .collect();
        Ok(SweepAxis {
            key: key.to_owned(),
            values,
            spec: spec.trim().to_owned(),
        })
    }
}

/// Every point of the grid, the first axis varying slowest: each a list of
/// `(key, value)` in the axes' order.
///
/// # Errors
/// A key on two axes, or more than [`MAX_POINTS`] points.
pub fn grid(axes: &[SweepAxis]) -> Result<Vec<Vec<(String, String)>>, String> {
    for (i, axis) in axes.iter().enumerate() {
        if axes[..i].iter().any(|a| a.key == axis.key) {
            return Err(format!("--sweep {}: the key is swept twice", axis.key));
        }
    }
    let points = axes
        .iter()
        .try_fold(1usize, |n, a| n.checked_mul(a.values.len()))
        .filter(|&n| n <= MAX_POINTS)
        .ok_or_else(|| format!("--sweep: the grid has more than {MAX_POINTS} points"))?;
    let mut out = Vec::with_capacity(points);
    for p in 0..points {
        let mut rest = p;
        let mut point = vec![(String::new(), String::new()); axes.len()];
        for (slot, axis) in point.iter_mut().zip(axes).rev() {
            let n = axis.values.len();
            *slot = (axis.key.clone(), axis.values[rest % n].clone());
            rest /= n;
        }
        out.push(point);
    }
    Ok(out)
}

/// A deterministic share of a grid: `K/N` runs points `p` with `p mod N = K − 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which share, from 1.
    pub k: u32,
    /// Of how many.
    pub n: u32,
}

impl Shard {
    /// The whole grid.
    pub const ALL: Shard = Shard { k: 1, n: 1 };

    /// Whether point `p` is in this share.
    pub fn takes(self, p: usize) -> bool {
        p % self.n as usize == (self.k - 1) as usize
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("--shard {s}: expected K/N with 1 ≤ K ≤ N (as 3/8)");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (k, n): (u32, u32) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if k == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard { k, n })
    }
}

/// What one point did, as the table's cells (so that a merge, which reads them back,
/// writes the same text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepRow {
    /// The point's number in the grid.
    pub point: usize,
    /// Its values, in the axes' order.
    pub values: Vec<String>,
    /// The figures' cells ([`FIGURES`]), or why the point could not run (a setting the
    /// strategy rejects, as `fast` not below `slow`), in the `note` column.
    pub figures: Result<Vec<String>, String>,
}

/// The figure columns, in order.
pub const FIGURES: [&str; 8] = [
    "trades",
    "final_equity",
    "total_return",
    "win_rate",
    "profit_factor",
    "net",
    "max_drawdown_bars",
    "exposure",
];

/// The figures' cells of a run's [`Stats`](super::Stats).
pub fn figure_cells(stats: &super::Stats) -> Vec<String> {
    let fixed = |x: f64, d: usize| {
        if x.is_finite() {
            format!("{x:.d$}")
        } else {
            String::new()
        }
    };
    vec![
        stats.trades.to_string(),
        fixed(stats.final_equity, 2),
        fixed(stats.total_return, 6),
        fixed(stats.win_rate(), 6),
        fixed(stats.profit_factor(), 4),
        fixed(stats.gross - stats.charges, 2),
        fixed(stats.max_drawdown_bars, 6),
        fixed(stats.exposure, 6),
    ]
}

/// The figures' cells of a run through the pipeline (`--risk configured`): its
/// [`SessionStats`] (round trips, equity as the risk stage marks it, `net` after the
/// Indian charges) and `exposure`, the share of bars inside a round trip
/// ([`BarDays::exposure`](super::BarDays::exposure)). `max_drawdown_bars` is empty: the
/// pipeline marks the equity at each day's end, not at every bar.
pub fn session_figure_cells(stats: &SessionStats, exposure: f64) -> Vec<String> {
    let fixed = |x: f64, d: usize| {
        if x.is_finite() {
            format!("{x:.d$}")
        } else {
            String::new()
        }
    };
    let capital = stats.capital.to_f64();
    let paise = crate::report::paise;
    vec![
        stats.trades.to_string(),
        paise(stats.final_equity),
        fixed((stats.final_equity.to_f64() - capital) / capital, 6),
        fixed(stats.win_rate(), 6),
        fixed(stats.profit_factor(), 4),
        paise(stats.net()),
        String::new(),
        fixed(exposure, 6),
    ]
}

/// The header of `sweep.csv`: `point`, the keys, the figures, `note`.
pub fn sweep_header(keys: &[String]) -> Vec<String> {
    let mut header = vec!["point".to_owned()];
    header.extend(keys.iter().cloned());
    header.extend(FIGURES.iter().map(|f| (*f).to_owned()));
    header.push("note".to_owned());
    header
}

fn cells(row: &SweepRow) -> Vec<String> {
    let mut out = vec![row.point.to_string()];
    out.extend(row.values.iter().cloned());
    match &row.figures {
        Ok(figures) => {
            out.extend(figures.iter().cloned());
            out.push(String::new());
        }
        Err(note) => {
            out.extend(FIGURES.iter().map(|_| String::new()));
            out.push(note.clone());
        }
    }
    out
}

/// `sweep.csv`: one row per point, in point order.
///
/// # Errors
/// The csv writer's (it does not fail on text in memory).
pub fn sweep_csv(keys: &[String], rows: &[SweepRow]) -> Result<String, String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| format!("sweep.csv: {e}");
    writer.write_record(sweep_header(keys)).map_err(err)?;
    for row in rows {
        writer.write_record(cells(row)).map_err(err)?;
    }
    let bytes = writer.into_inner().map_err(|e| format!("sweep.csv: {e}"))?;
    String::from_utf8(bytes).map_err(|e| format!("sweep.csv: {e}"))
}

/// `sweep.md`: what ran, the best point by final equity, and the table.
pub fn sweep_markdown(info: &Value, keys: &[String], rows: &[SweepRow]) -> String {
    let text = |k: &str| info[k].as_str().unwrap_or_default().to_owned();
    let grid: Vec<String> = info["grid"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Sweep: {} on {}\n\n- Grid: {} ({} points)\n- Risk profile: {} ({})\n- Run: {}",
        text("strategy"),
        text("data"),
        grid.join(" × "),
        info["points"],
        text("risk_profile"),
        text("risk_profile_reason"),
        text("settings"),
    );
    if text("risk_profile") == CONFIGURED_RISK {
        let _ = writeln!(
            out,
            "- Figures: of the bars through the pipeline, as the risk stage marks the equity; `net` is after the Indian charges; `max_drawdown_bars` is empty (the equity is marked at each day's end, not at every bar)"
        );
    }
    out.push('\n');
    let best = rows
        .iter()
        .filter_map(|r| {
            let f = r.figures.as_ref().ok()?;
            Some((f[1].parse::<f64>().ok()?, r))
        })
        .fold(None::<(f64, &SweepRow)>, |best, (e, r)| match best {
            Some((b, _)) if b >= e => best,
            _ => Some((e, r)),
        });
    if let Some((equity, row)) = best {
        let point: Vec<String> = keys
            .iter()
            .zip(&row.values)
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let _ = writeln!(
            out,
            "Best final equity: {equity:.2} at point {} ({}).\n",
            row.point,
            point.join(", ")
        );
    }
    let header = sweep_header(keys);
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(
        out,
        "|{}",
        header
            .iter()
            .enumerate()
            .map(
                |(i, _)| if i == 0 || i > keys.len() && i < header.len() - 1 {
                    " ---: |"
                } else {
                    " --- |"
                }
            )
            .collect::<String>()
    );
    for row in rows {
        let _ = writeln!(out, "| {} |", cells(row).join(" | "));
    }
    out
}

/// `sweep.json`: what ran (data, strategy, grid, the risk profile and why it ran,
/// settings); a shard adds which.
pub fn sweep_info(
    data: &str,
    strategy: &str,
    axes: &[SweepAxis],
    points: usize,
    (risk_profile, risk_reason): (&str, &str),
    settings: &str,
    shard: Option<Shard>,
) -> Value {
    let grid: Vec<&str> = axes.iter().map(|a| a.spec.as_str()).collect();
    let keys: Vec<&str> = axes.iter().map(|a| a.key.as_str()).collect();
    json!({
        "data": data,
        "strategy": strategy,
        "grid": grid,
        "keys": keys,
        "points": points,
        "risk_profile": risk_profile,
        "risk_profile_reason": risk_reason,
        "settings": settings,
        "shard": shard.map(|s| s.to_string()),
    })
}

/// Writes `sweep.csv`, `sweep.md` and `sweep.json` into `dir` (created if missing).
///
/// # Errors
/// A file that cannot be written, named.
pub fn write_sweep(
    dir: &Path,
    info: &Value,
    keys: &[String],
    rows: &[SweepRow],
) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let json = serde_json::to_string_pretty(info).map_err(|e| format!("sweep.json: {e}"))? + "\n";
    for (file, text) in [
        ("sweep.csv", sweep_csv(keys, rows)?),
        ("sweep.md", sweep_markdown(info, keys, rows)),
        ("sweep.json", json),
    ] {
        let path = dir.join(file);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// Reads a sweep's `sweep.json` and `sweep.csv` from `dir`.
///
/// # Errors
/// A missing or malformed file, named with the line.
pub fn read_sweep(dir: &Path) -> Result<(Value, Vec<String>, Vec<SweepRow>), String> {
    let json_path = dir.join("sweep.json");
    let text =
        std::fs::read_to_string(&json_path).map_err(|e| format!("{}: {e}", json_path.display()))?;
    let info: Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", json_path.display()))?;
    let keys: Vec<String> = info["keys"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str())
                .map(str::to_owned)
                .collect()
        })
        .ok_or_else(|| format!("{}: no `keys`", json_path.display()))?;
    let csv_path = dir.join("sweep.csv");
    let file = csv_path.display().to_string();
    let mut reader = csv::Reader::from_path(&csv_path).map_err(|e| format!("{file}: {e}"))?;
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| format!("{file}: line 1: {e}"))?
        .iter()
        .map(str::to_owned)
        .collect();
    if header != sweep_header(&keys) {
        return Err(format!(
            "{file}: line 1: the header `{}` is not the one sweep.json's keys give",
            header.join(",")
        ));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("{file}: {e}"))?;
        let line = record.position().map_or(0, csv::Position::line);
        let cell = |i: usize| record.get(i).unwrap_or_default().to_owned();
        let point = cell(0).parse().map_err(|_| {
            format!(
                "{file}: line {line}, column `point`: `{}` is not a point number",
                cell(0)
            )
        })?;
        let values = (1..=keys.len()).map(cell).collect();
        let note = cell(header.len() - 1);
        let figures = if note.is_empty() {
            Ok((keys.len() + 1..header.len() - 1).map(cell).collect())
        } else {
            Err(note)
        };
        rows.push(SweepRow {
            point,
            values,
            figures,
        });
    }
    Ok((info, keys, rows))
}

/// Combines shards' tables into the table of the whole grid.
///
/// # Errors
/// Shards of different sweeps (data, strategy, grid, risk profile or settings differ),
/// a point in two shards, or points no shard ran (named by number).
pub fn merge(
    shards: &[(String, Value, Vec<String>, Vec<SweepRow>)],
) -> Result<(Value, Vec<String>, Vec<SweepRow>), String> {
    let Some((first_dir, first, keys, _)) = shards.first() else {
        return Err("merge: give the shards' output folders".to_owned());
    };
    let mut info = first.clone();
    info["shard"] = Value::Null;
    let mut rows: Vec<SweepRow> = Vec::new();
    for (dir, other, _, shard_rows) in shards {
        let mut same = other.clone();
        same["shard"] = Value::Null;
        if same != info {
            return Err(format!(
                "merge: {dir} is a different sweep from {first_dir} (data, strategy, grid, risk profile or settings differ)"
            ));
        }
        rows.extend(shard_rows.iter().cloned());
    }
    rows.sort_by_key(|r| r.point);
    if let Some(w) = rows.windows(2).find(|w| w[0].point == w[1].point) {
        return Err(format!("merge: point {} is in two shards", w[0].point));
    }
    let points = info["points"].as_u64().unwrap_or(0) as usize;
    let missing: Vec<String> = {
        let mut have = rows.iter().map(|r| r.point).peekable();
        let mut missing = Vec::new();
        for p in 0..points {
            if have.peek() == Some(&p) {
                have.next();
            } else {
                missing.push(p.to_string());
            }
        }
        missing
    };
    if !missing.is_empty() {
        let shown: Vec<&str> = missing.iter().take(10).map(String::as_str).collect();
        return Err(format!(
            "merge: {} of {points} points are in no shard given (first: {}); pass every shard's folder",
            missing.len(),
            shown.join(", ")
        ));
    }
    if rows.len() != points {
        return Err(format!(
            "merge: {} rows for a grid of {points} points",
            rows.len()
        ));
    }
    Ok((info, keys.clone(), rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_are_exact_and_inclusive() {
        let a: SweepAxis = "fast=5..20:5".parse().unwrap();
        assert_eq!(a.values, ["5", "10", "15", "20"]);
        let a: SweepAxis = "stop_pct=0.1..0.35:0.1".parse().unwrap();
        assert_eq!(a.values, ["0.1", "0.2", "0.3"]);
        let a: SweepAxis = "x=1..2:0.25".parse().unwrap();
        assert_eq!(a.values, ["1", "1.25", "1.5", "1.75", "2"]);
        assert!("fast=5..2:1"
            .parse::<SweepAxis>()
            .unwrap_err()
            .contains("a ≤ b"));
        assert!("fast=5..8:0"
            .parse::<SweepAxis>()
            .unwrap_err()
            .contains("above 0"));
        assert!("fast=5..8"
            .parse::<SweepAxis>()
            .unwrap_err()
            .contains("step"));
        assert!("fast=a..8:1"
            .parse::<SweepAxis>()
            .unwrap_err()
            .contains("`a`"));
    }

    #[test]
    fn the_grid_is_the_product_first_axis_slowest() {
        let axes: Vec<SweepAxis> = ["a=1..2:1", "b=10..30:10"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let g = grid(&axes).unwrap();
        assert_eq!(g.len(), 6);
        assert_eq!(g[0], [("a".into(), "1".into()), ("b".into(), "10".into())]);
        assert_eq!(g[2], [("a".into(), "1".into()), ("b".into(), "30".into())]);
        assert_eq!(g[3], [("a".into(), "2".into()), ("b".into(), "10".into())]);
        let twice: Vec<SweepAxis> = ["a=1..2:1", "a=1..2:1"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert!(grid(&twice).is_err());
    }

    #[test]
    fn shards_cover_the_grid_once() {
        for n in 1..6u32 {
            for p in 0..50 {
                let owners = (1..=n).filter(|&k| Shard { k, n }.takes(p)).count();
                assert_eq!(owners, 1);
            }
        }
        assert_eq!("2/4".parse::<Shard>().unwrap(), Shard { k: 2, n: 4 });
        for bad in ["0/4", "5/4", "4", "a/b"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
