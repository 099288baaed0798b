//! `manifest.json` beside a run's segments: the names the records only number.
//!
//! Records carry strategy and instrument ids, never names (a name does not fit a
//! 64-byte record, and the hot path must not format one). The engine writes the names
//! once, when it opens the day, so `report --journal` and `journal export` can name what
//! they read without being handed the run's configuration. The file is written to a
//! temporary name and renamed, so a reader sees the old manifest or the new one, never
//! half of one. The journal reader ignores it (it reads `*.seg` files only).

use std::{fs, io, path::Path};

use serde::{Deserialize, Serialize};

use crate::model::{InstrumentTable, Money};

/// The file's name in a run directory.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The manifest format this build writes and reads.
pub const MANIFEST_FORMAT: u32 = 1;

/// What a run's records number, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The manifest's own format.
    pub format: u32,
    /// The run configuration's hash (as the session mark carries it), in hex.
    pub config_hash: String,
    /// Strategy names by `StrategyId`.
    pub strategies: Vec<String>,
    /// Instrument symbols by `InstrumentId`.
    pub instruments: Vec<String>,
    /// `risk.capital`, rupees, as a decimal string.
    pub capital: String,
}

impl Manifest {
    /// The manifest of a run with configuration hash `hash`, `strategies` by id,
    /// `instruments` and `capital`.
    pub fn new(
        hash: u64,
        strategies: &[&str],
        instruments: &InstrumentTable,
        capital: Money,
    ) -> Self {
        Manifest {
            format: MANIFEST_FORMAT,
            config_hash: format!("{hash:016x}"),
            strategies: strategies.iter().map(|s| (*s).to_owned()).collect(),
            instruments: instruments.iter().map(|i| i.symbol.clone()).collect(),
            capital: capital.to_string(),
        }
    }

    /// Writes the manifest into run directory `dir`, replacing any earlier one whole.
    ///
    /// # Errors
    /// The directory cannot be written.
    pub fn write(&self, dir: &Path) -> io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(io::Error::other)?;
        let tmp = dir.join(format!("{MANIFEST_FILE}.tmp"));
        fs::write(&tmp, text + "\n")?;
        fs::rename(&tmp, dir.join(MANIFEST_FILE))
    }

    /// The manifest of run directory `dir`, or `None` when it has none (a journal from a
    /// build before manifests).
    ///
    /// # Errors
    /// A manifest that cannot be read or parsed, or of a newer format, named with its path.
    pub fn read(dir: &Path) -> Result<Option<Manifest>, String> {
        let path = dir.join(MANIFEST_FILE);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let manifest: Manifest =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        if manifest.format > MANIFEST_FORMAT {
            return Err(format!(
                "{}: manifest format {}, but this build reads format {MANIFEST_FORMAT} at most",
                path.display(),
                manifest.format
            ));
        }
        Ok(Some(manifest))
    }

    /// The capital as money.
    ///
    /// # Errors
    /// A capital that is not a decimal number.
    pub fn capital(&self) -> Result<Money, String> {
        self.capital.parse().map_err(|_| {
            format!(
                "{MANIFEST_FILE}: capital `{}` is not a number",
                self.capital
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Instrument, SectorId};

    fn table() -> InstrumentTable {
        let mut t = InstrumentTable::new();
        t.push(Instrument::nse_equity("RELIANCE", SectorId(0)))
            .unwrap();
        t
    }

    #[test]
    fn written_and_read_back_whole() {
        let dir = std::env::temp_dir().join(format!("tickpipe-manifest-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        assert_eq!(Manifest::read(&dir), Ok(None), "none yet");
        let m = Manifest::new(
            0xabc,
            &["sma_cross", "momentum_surfer"],
            &table(),
            Money::from_rupees(500_000),
        );
        m.write(&dir).unwrap();
        let back = Manifest::read(&dir).unwrap().unwrap();
        assert_eq!(back, m);
        assert_eq!(back.config_hash, "0000000000000abc");
        assert_eq!(back.instruments, ["RELIANCE"]);
        assert_eq!(back.capital().unwrap(), Money::from_rupees(500_000));
        assert!(!dir.join("manifest.json.tmp").exists());
        // A newer format and a broken file are named, never guessed at.
        fs::write(dir.join(MANIFEST_FILE), r#"{"format": 9, "config_hash": "", "strategies": [], "instruments": [], "capital": "1"}"#).unwrap();
        let err = Manifest::read(&dir).unwrap_err();
        assert!(err.contains("manifest format 9"), "{err}");
        fs::write(dir.join(MANIFEST_FILE), "{").unwrap();
        assert!(Manifest::read(&dir).unwrap_err().contains("manifest.json"));
        fs::remove_dir_all(&dir).unwrap();
    }
}
