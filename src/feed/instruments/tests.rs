//! The master loader against Kite's own dump (`tests/fixtures/kite/`, see its README).

use super::*;
use crate::model::{Date, InstrumentKind, OptionType, Price, Segment};

const ALL: &[u8] = include_bytes!("../../../tests/fixtures/kite/instruments_all.csv");
const NSE: &[u8] = include_bytes!("../../../tests/fixtures/kite/instruments_nse.csv");

fn p(text: &str) -> Price {
    text.parse().unwrap()
}

/// The fixture's lines split naively (it has no quoted fields), to check each parsed
/// row against the text it came from.
fn raw_lines(bytes: &[u8]) -> Vec<Vec<String>> {
    std::str::from_utf8(bytes)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.trim_end().split(',').map(str::to_owned).collect())
        .collect()
}

#[test]
fn every_fixture_row_is_parsed_with_its_fields() {
    for (bytes, name) in [(ALL, "instruments_all.csv"), (NSE, "instruments_nse.csv")] {
        let rows = parse(bytes, name).unwrap();
        let raw = raw_lines(bytes);
        assert_eq!(rows.len(), 99, "{name}");
        assert_eq!(raw.len(), 99, "{name}");
        for (i, (row, f)) in rows.iter().zip(&raw).enumerate() {
            assert_eq!(row.line, i as u64 + 2, "{name}");
            assert_eq!(row.instrument_token.to_string(), f[0]);
            assert_eq!(row.exchange_token.to_string(), f[1]);
            assert_eq!(row.tradingsymbol, f[2]);
            assert_eq!(row.name, f[3]);
            assert_eq!(row.last_price, p(&f[4]));
            assert_eq!(row.expiry, Date::parse(&f[5]), "{}", row.tradingsymbol);
            assert_eq!(row.expiry.is_none(), f[5].is_empty());
            assert_eq!(row.strike, p(&f[6]));
            assert_eq!(row.tick_size, p(&f[7]), "{}", row.tradingsymbol);
            assert_eq!(row.lot_size.to_string(), f[8]);
            assert_eq!(row.segment, f[10]);
            assert_eq!(row.exchange, f[11]);
        }
    }
}

#[test]
fn fixture_rows_have_kites_values() {
    let rows = parse(ALL, "all").unwrap();
    let find = |s: &str| rows.iter().find(|r| r.tradingsymbol == s).unwrap();

    let etf = find("MIDCAPIWIN-BL");
    assert_eq!((etf.instrument_token, etf.exchange_token), (4531969, 17703));
    assert_eq!(etf.tick_size, Price::from_paise(1));
    assert_eq!(etf.instrument_type, MasterType::Equity);

    let bond = find("830GOI42-ML");
    assert_eq!((bond.tick_size, bond.lot_size), (p("0.25"), 500_000));
    assert_eq!(bond.exchange, "BSE");

    let call = find("BANKNIFTY18JAN23500CE");
    assert_eq!(call.instrument_type, MasterType::Call);
    assert_eq!(call.expiry, Some(Date::new(2018, 1, 25)));
    assert_eq!((call.strike, call.lot_size), (p("23500"), 40));
    assert_eq!(call.last_price, p("2528.40"));
    assert_eq!(call.segment, "NFO-OPT");

    let put = find("ADANIPORTS17DEC490PE");
    assert_eq!(put.instrument_type, MasterType::Put);
    assert_eq!((put.strike, put.lot_size), (p("490"), 2500));
    assert_eq!(put.expiry, Some(Date::new(2017, 12, 28)));

    let one_paisa = rows
        .iter()
        .filter(|r| r.tick_size == Price::from_paise(1))
        .count();
    assert_eq!(one_paisa, 13);
}

#[test]
fn table_holds_nse_cash_and_nfo_with_tokens() {
    let rows = parse(ALL, "all").unwrap();
    let freeze = FreezeLimits::load_default().unwrap();
    let master = build_table(&rows, &freeze, "all").unwrap();
    let table = &master.table;
    assert_eq!(table.len(), 55 + 25);
    assert_eq!(master.skipped.get("BSE"), Some(&19));
    assert_eq!(master.skipped.len(), 1);

    // Every selected row is reachable by its token and keeps its own tick and lot.
    for row in rows.iter().filter(|r| r.exchange != "BSE") {
        let id = table.find_token(row.instrument_token).unwrap();
        let i = table.get(id);
        assert_eq!(i.symbol, row.tradingsymbol);
        assert_eq!((i.tick_size, i.lot_size), (row.tick_size, row.lot_size));
        assert_eq!(i.expiry, row.expiry);
        assert_eq!(table.token_of(id), Some(row.instrument_token));
    }

    let bees = table.get(table.find("BANKBEES").unwrap());
    assert_eq!(
        (bees.segment, bees.kind),
        (Segment::Cash, InstrumentKind::Equity)
    );
    assert_eq!(bees.tick_size, Price::from_paise(1));

    let call = table.get(table.find_token(12073986).unwrap());
    assert_eq!(call.symbol, "BANKNIFTY18JAN23500CE");
    assert_eq!(
        (call.kind, call.segment),
        (InstrumentKind::Option, Segment::Fno)
    );
    assert_eq!(call.option_type, Some(OptionType::Call));
    assert_eq!(call.strike, Some(p("23500")));
    // The fixture's derivatives have no `name`; the root comes from the freeze file.
    assert_eq!(call.freeze_qty, 600);
    // No BANKNIFTY index row in the fixture.
    assert_eq!(call.underlying, None);

    // ADANIPORTS is an NSE cash row; its option finds it by prefix only with a root in
    // the freeze file, which lists index roots alone: no freeze limit, no underlying.
    let put = table.get(table.find("ADANIPORTS17DEC490PE").unwrap());
    assert_eq!((put.freeze_qty, put.underlying), (0, None));
    assert_eq!(table.find_token(3813889), table.find("CENTRALBK-BE"));
    assert_eq!(table.find_token(112653060), None); // a BSE bond
}

#[test]
fn derivative_names_its_underlying_and_index_alias() {
    let text = "instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange\n\
                256265,1001,NIFTY 50,NIFTY 50,0,,0,0.05,1,EQ,INDICES,NSE\n\
                738561,2885,RELIANCE,RELIANCE INDUSTRIES,0,,0,0.10,1,EQ,NSE,NSE\n\
                10001,40001,NIFTY26DEC24000CE,NIFTY,0,2026-12-29,24000,0.05,65,CE,NFO-OPT,NFO\n\
                10002,40002,RELIANCE26DECFUT,RELIANCE,0,2026-12-29,0,0.10,500,FUT,NFO-FUT,NFO\n";
    let rows = parse(text.as_bytes(), "m.csv").unwrap();
    let master = build_table(&rows, &FreezeLimits::load_default().unwrap(), "m.csv").unwrap();
    let t = &master.table;
    let index = t.find("NIFTY 50").unwrap();
    assert_eq!(t.get(index).kind, InstrumentKind::Index);
    let call = t.get(t.find("NIFTY26DEC24000CE").unwrap());
    assert_eq!(
        (call.underlying, call.freeze_qty, call.lot_size),
        (Some(index), 1800, 65)
    );
    let fut = t.get(t.find("RELIANCE26DECFUT").unwrap());
    assert_eq!(fut.kind, InstrumentKind::Future);
    assert_eq!((fut.strike, fut.tick_size), (None, p("0.10")));
    assert_eq!(fut.underlying, t.find("RELIANCE"));
}

/// The fixture with one line replaced (1-based, the header is line 1).
fn with_line(n: usize, replace: impl Fn(&str) -> String) -> Vec<u8> {
    let text = std::str::from_utf8(ALL).unwrap();
    let lines: Vec<String> = text
        .split("\r\n")
        .enumerate()
        .map(|(i, l)| if i + 1 == n { replace(l) } else { l.to_owned() })
        .collect();
    lines.join("\r\n").into_bytes()
}

#[test]
fn bad_input_names_file_line_and_column() {
    let e = parse(&with_line(1, |l| l.replace(",tick_size", "")), "all.csv").unwrap_err();
    assert_eq!(e.to_string(), "all.csv:1: missing column `tick_size`");

    // Line 4 is MIDCAPIWIN-BL; its tick size is the 8th column.
    let e = parse(&with_line(4, |l| l.replace(",0.01,", ",0.0x,")), "all.csv").unwrap_err();
    assert_eq!(
        (e.line, e.column.clone()),
        (4, Some((8, "tick_size".to_owned())))
    );
    assert!(
        e.to_string()
            .starts_with("all.csv:4:8 (column `tick_size`): `0.0x` is not a decimal price"),
        "{e}"
    );

    let e = parse(&with_line(4, |l| l.replace(",0.01,", ",0,")), "all.csv").unwrap_err();
    assert_eq!(e.column.unwrap().1, "tick_size");

    let options = parse(ALL, "all").unwrap();
    let call = options
        .iter()
        .find(|r| r.tradingsymbol == "BANKNIFTY18JAN23500CE")
        .unwrap();
    let n = call.line as usize;
    let e = parse(
        &with_line(n, |l| l.replace("2018-01-25", "2018-02-30")),
        "all.csv",
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("all.csv:{n}:6 (column `expiry`): `2018-02-30` is not a date (YYYY-MM-DD)")
    );
    let e = parse(&with_line(n, |l| l.replace("2018-01-25", "")), "all.csv").unwrap_err();
    assert_eq!(e.column.unwrap().1, "expiry");
    let e = parse(&with_line(n, |l| l.replace(",CE,", ",XX,")), "all.csv").unwrap_err();
    assert_eq!(e.column.unwrap(), (10, "instrument_type".to_owned()));

    let e = parse(&with_line(3, |l| l.replace(",1,EQ", ",lot,EQ")), "all.csv").unwrap_err();
    assert_eq!((e.line, e.column.unwrap().1.as_str()), (3, "lot_size"));

    let e = parse(&with_line(5, |l| format!("{l},extra")), "all.csv").unwrap_err();
    assert_eq!(e.line, 5);
    assert!(e.reason.contains("expected 12 fields, found 13"), "{e}");

    let e = load(std::path::Path::new("no/such/master.csv")).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("no/such/master.csv:0: cannot read"),
        "{e}"
    );
}

#[test]
fn freeze_limits_file_is_checked() {
    let f = FreezeLimits::load_default().unwrap();
    assert_eq!(
        (f.get("NIFTY"), f.get("BANKNIFTY")),
        (Some(1800), Some(600))
    );
    assert_eq!(f.get("RELIANCE"), None);
    let e = FreezeLimits::parse("# c\nsymbol,freeze_qty\nNIFTY,many\n", "f.csv").unwrap_err();
    assert_eq!(
        e.to_string(),
        "f.csv:3:2 (column `freeze_qty`): `many` is not a positive whole number"
    );
    let e = FreezeLimits::parse("symbol,qty\n", "f.csv").unwrap_err();
    assert!(e.reason.contains("missing column `freeze_qty`"), "{e}");
    let e = FreezeLimits::parse("symbol,freeze_qty\nA,1\nA,2\n", "f.csv").unwrap_err();
    assert_eq!((e.line, e.reason.as_str()), (3, "`A` is listed twice"));
}

#[test]
fn nse_master_is_all_cash_with_per_share_ticks() {
    let rows = parse(NSE, "nse").unwrap();
    let master = build_table(&rows, &FreezeLimits::default(), "nse").unwrap();
    assert_eq!(master.table.len(), 99);
    assert!(master.skipped.is_empty());
    let ticks: Vec<Price> = master.table.iter().map(|i| i.tick_size).collect();
    assert_eq!(
        ticks.iter().filter(|&&t| t == Price::from_paise(1)).count(),
        11
    );
    assert_eq!(
        ticks.iter().filter(|&&t| t == Price::from_paise(5)).count(),
        88
    );
    assert!(master.table.iter().all(|i| i.segment == Segment::Cash));
}
