//! The Kite Ticker decoder against the official Python client's decode of every frame
//! in `tests/fixtures/kite-ticker/frames-a.jsonl`, all fields and depth included, and of
//! the framing edge cases in `frames-edge.jsonl`.
//!
//! The one deliberate difference (fixture README, last section): price fields are read
//! as signed 32-bit values, so a wire value of 2^31 or more decodes to the official
//! value minus 2^32 / divisor, and `change` follows from the signed prices.
//!
//! Property tests: no input makes either reader panic, and the engine's decoder never
//! misreads a packet of a cut or extended real frame (what it yields is always a prefix
//! of the complete frame's packets).

use proptest::prelude::*;
use serde_json::Value;
use tickpipe::feed::kite::{
    official, DecodeError, Decoded, Depth, KiteDecoder, Layout, Packet, SegmentCode,
};

const FRAMES: &str = include_str!("fixtures/kite-ticker/frames-a.jsonl");
const EDGE_FRAMES: &str = include_str!("fixtures/kite-ticker/frames-edge.jsonl");

struct Frame {
    id: u64,
    bytes: Vec<u8>,
    expected: Value,
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn frames() -> Vec<Frame> {
    parse_frames(FRAMES)
}

fn parse_frames(text: &str) -> Vec<Frame> {
    text.lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap();
            Frame {
                id: v["id"].as_u64().unwrap(),
                bytes: hex(v["frame_hex"].as_str().unwrap()),
                expected: v,
            }
        })
        .collect()
}

/// The packets and depth the engine's decoder yields, and the errors it reports.
fn strict(bytes: &[u8]) -> (Vec<(Packet, Option<Depth>)>, Vec<DecodeError>) {
    let (mut packets, mut errors) = (Vec::new(), Vec::new());
    KiteDecoder::default().decode(bytes, |d| match d {
        Decoded::Packet { packet, depth } => packets.push((*packet, depth.copied())),
        Decoded::Skipped { error, .. } => errors.push(error),
        Decoded::Heartbeat => {}
    });
    (packets, errors)
}

/// The wire value the official float stands for (exact: wire values are below 2^32 and
/// the float is within half an ulp of `wire / divisor`).
fn official_wire(value: &Value, seg: SegmentCode) -> i64 {
    let x = value.as_f64().unwrap();
    (x * f64::from(seg.divisor())).round() as i64
}

/// The signed reading tickpipe documents for an official (unsigned) wire value.
fn signed(wire: i64) -> i64 {
    i64::from(wire as u32 as i32)
}

fn check_price(what: &str, ours: tickpipe::model::Price, official: &Value, seg: SegmentCode) {
    let wire = official_wire(official, seg);
    assert!((0..1 << 32).contains(&wire), "{what}: {official}");
    assert_eq!(seg.wire(ours), signed(wire), "{what}: official {official}");
    if wire < 1 << 31 {
        // Below 2^31 the decimal must be the official float exactly.
        assert_eq!(
            seg.price_f64(ours).to_bits(),
            (wire as f64 / f64::from(seg.divisor())).to_bits(),
            "{what}"
        );
    }
}

fn check_u64(what: &str, ours: u64, official: &Value) {
    assert_eq!(Some(ours), official.as_u64(), "{what}");
}

/// The official change, recomputed from the signed prices when one of them is 2^31 or
/// more (otherwise, and when the close is zero, the official value as it is).
fn expected_change(tick: &Value, seg: SegmentCode) -> Value {
    let last = official_wire(&tick["last_price"], seg);
    let close = official_wire(&tick["ohlc"]["close"], seg);
    if close == 0 || (last < 1 << 31 && close < 1 << 31) {
        return tick["change"].clone();
    }
    let d = f64::from(seg.divisor());
    let (last, close) = (signed(last) as f64 / d, signed(close) as f64 / d);
    serde_json::json!((last - close) * 100.0 / close)
}

/// Every field of one decoded packet against the official dict.
fn check_packet(ctx: &str, p: &Packet, depth: Option<&Depth>, tick: &Value) {
    let seg = p.segment();
    check_u64(
        &format!("{ctx} instrument_token"),
        u64::from(p.instrument_token),
        &tick["instrument_token"],
    );
    assert_eq!(Some(p.is_tradable()), tick["tradable"].as_bool(), "{ctx}");
    assert_eq!(Some(p.mode().name()), tick["mode"].as_str(), "{ctx}");
    check_price(
        &format!("{ctx} last_price"),
        p.last_price,
        &tick["last_price"],
        seg,
    );
    let keys: Vec<&str> = tick
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    if p.layout == Layout::Ltp {
        assert_eq!(keys.len(), 4, "{ctx}: {keys:?}");
        return;
    }
    let ohlc = &tick["ohlc"];
    for (name, price) in [
        ("open", p.ohlc.open),
        ("high", p.ohlc.high),
        ("low", p.ohlc.low),
        ("close", p.ohlc.close),
    ] {
        check_price(&format!("{ctx} ohlc.{name}"), price, &ohlc[name], seg);
    }
    let change = expected_change(tick, seg);
    match p.change_percent() {
        None => assert_eq!(change.as_u64(), Some(0), "{ctx} change is integer 0"),
        Some(ours) => {
            let theirs = change.as_f64().unwrap();
            assert!(change.is_f64(), "{ctx} change is a float");
            assert!(
                (ours - theirs).abs() <= 1e-12 * theirs.abs().max(1e-300),
                "{ctx} change {ours} vs {theirs}"
            );
        }
    }
    if !p.layout.is_index() {
        for (name, value) in [
            ("last_traded_quantity", p.last_traded_quantity),
            ("volume_traded", p.volume_traded),
            ("total_buy_quantity", p.total_buy_quantity),
            ("total_sell_quantity", p.total_sell_quantity),
        ] {
            check_u64(&format!("{ctx} {name}"), u64::from(value), &tick[name]);
        }
        check_price(
            &format!("{ctx} average_traded_price"),
            p.average_traded_price,
            &tick["average_traded_price"],
            seg,
        );
    }
    if p.layout == Layout::IndexFull || p.layout == Layout::Full {
        check_u64(
            &format!("{ctx} exchange_timestamp"),
            u64::from(p.exchange_timestamp),
            &tick["exchange_timestamp"],
        );
    }
    if p.layout == Layout::Full {
        for (name, value) in [
            ("last_trade_time", p.last_trade_time),
            ("oi", p.oi),
            ("oi_day_high", p.oi_day_high),
            ("oi_day_low", p.oi_day_low),
        ] {
            check_u64(&format!("{ctx} {name}"), u64::from(value), &tick[name]);
        }
        let depth = depth.expect("full packets have depth");
        for (side, levels) in [("buy", &depth.buy), ("sell", &depth.sell)] {
            let theirs = tick["depth"][side].as_array().unwrap();
            assert_eq!(theirs.len(), levels.len(), "{ctx} depth.{side}");
            for (i, (ours, theirs)) in levels.iter().zip(theirs).enumerate() {
                let at = format!("{ctx} depth.{side}[{i}]");
                check_u64(&at, u64::from(ours.quantity), &theirs["quantity"]);
                check_u64(&at, u64::from(ours.orders), &theirs["orders"]);
                check_price(&at, ours.price, &theirs["price"], seg);
            }
        }
    } else {
        assert!(depth.is_none(), "{ctx}");
    }
}

#[test]
fn every_fixture_frame_matches_the_official_decode() {
    let frames = frames();
    assert_eq!(frames.len(), 300);
    let (mut matched, mut ticks, mut signed_prices) = (0, 0, 0);
    for frame in &frames {
        let ctx = format!("frame {}", frame.id);
        let expected = frame.expected["ticks"]
            .as_array()
            .unwrap_or_else(|| panic!("{ctx}: set A has no errors"));
        let (packets, errors) = strict(&frame.bytes);
        assert_eq!(errors, [], "{ctx}");
        assert_eq!(packets.len(), expected.len(), "{ctx}");
        for (i, ((packet, depth), tick)) in packets.iter().zip(expected).enumerate() {
            check_packet(&format!("{ctx} tick {i}"), packet, depth.as_ref(), tick);
            let seg = packet.segment();
            signed_prices += usize::from(official_wire(&tick["last_price"], seg) >= 1 << 31);
        }
        ticks += expected.len();
        matched += 1;
    }
    assert_eq!((matched, ticks), (300, 2206));
    // The all-0xFF packets exercise the signed reading.
    assert!(signed_prices > 0);
}

/// Compares the rendered JSON with the official dicts: same keys in the same order at
/// every level, same numbers (prices by the signed rule), same types for `change`.
fn compare(ctx: &str, ours: &Value, theirs: &Value, seg: Option<SegmentCode>) {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            let (ka, kb): (Vec<_>, Vec<_>) = (a.keys().collect(), b.keys().collect());
            assert_eq!(ka, kb, "{ctx}: keys");
            let seg = a
                .get("instrument_token")
                .and_then(Value::as_u64)
                .map(|t| SegmentCode::of_token(t as u32))
                .or(seg);
            for (key, value) in a {
                let at = format!("{ctx}.{key}");
                let expected = if key == "change" {
                    expected_change(theirs, seg.unwrap())
                } else {
                    b[key].clone()
                };
                if key.ends_with("price") || ["open", "high", "low", "close"].contains(&&**key) {
                    let seg = seg.unwrap();
                    // Our text is an exact decimal of at most 7 places, so the
                    // nearest double times the divisor rounds back to the wire value.
                    let ours = seg.price(official_wire(value, seg) as i32);
                    check_price(&at, ours, &expected, seg);
                } else {
                    compare(&at, value, &expected, seg);
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{ctx}: length");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                compare(&format!("{ctx}[{i}]"), x, y, seg);
            }
        }
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            assert_eq!(x.is_f64(), y.is_f64(), "{ctx}: {x} vs {y}");
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!((x - y).abs() <= 1e-12 * y.abs(), "{ctx}: {x} vs {y}");
        }
        _ => assert_eq!(ours, theirs, "{ctx}"),
    }
}

#[test]
fn the_official_rendering_has_the_clients_keys_order_and_values() {
    let mut out = String::new();
    for frame in frames() {
        out.clear();
        official::write_ticks(&frame.bytes, &mut out).unwrap();
        let ours: Value = serde_json::from_str(&out).unwrap();
        let theirs = serde_json::json!({ "ticks": frame.expected["ticks"] });
        compare(&format!("frame {}", frame.id), &ours, &theirs, None);
    }
}

#[test]
fn the_published_test_vectors_decode() {
    // kiteconnectjs `test/fullMode_binary.packet` (PROTOCOLS.md §1.9 C).
    // The bytes of the file (MIT, Zerodha): 60 bytes of fields, one depth level, then
    // 108 zero bytes of empty levels.
    let mut full = hex("000100b8000d80010000997f0000000200009d730153ad28000015f1000000000000a4100000a46a000098620000a1c262ab05a000000000000000000000000062ab1198000015f10000997f001e0000");
    full.resize(4 + 184, 0);
    let (packets, errors) = strict(&full);
    assert_eq!(errors, []);
    let (p, depth) = &packets[0];
    assert_eq!(p.instrument_token, 884_737);
    assert_eq!(p.last_price.to_string(), "392.95");
    assert_eq!(p.average_traded_price.to_string(), "403.07");
    assert_eq!(p.volume_traded, 22_261_032);
    assert_eq!(p.ohlc.open.to_string(), "420.00");
    assert_eq!(p.ohlc.close.to_string(), "414.10");
    assert_eq!(
        (p.last_trade_time, p.exchange_timestamp),
        (1_655_375_264, 1_655_378_328)
    );
    let depth = depth.unwrap();
    assert_eq!(depth.buy[0].quantity, 5617);
    assert_eq!(depth.buy[0].price.to_string(), "392.95");
    assert_eq!(depth.buy[0].orders, 30);
}

/// The edge set (`gen_edge_frames.py`): the official reading fails exactly where the
/// client raised, and otherwise renders the client's ticks.
#[test]
fn edge_frames_agree_with_the_official_client_including_failures() {
    let frames = parse_frames(EDGE_FRAMES);
    assert_eq!(frames.len(), 435);
    let (mut failures, mut out) = (0, String::new());
    for frame in frames {
        let ctx = format!("edge frame {}", frame.id);
        out.clear();
        let result = official::write_ticks(&frame.bytes, &mut out);
        if frame.expected.get("error").is_some() {
            assert!(result.is_err(), "{ctx}: the client raised; we gave {out}");
            assert!(out.is_empty(), "{ctx}");
            failures += 1;
            continue;
        }
        result.unwrap_or_else(|e| panic!("{ctx}: {e}"));
        let ours: Value = serde_json::from_str(&out).unwrap();
        let theirs = serde_json::json!({ "ticks": frame.expected["ticks"] });
        compare(&ctx, &ours, &theirs, None);
    }
    assert_eq!(failures, 213);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let (packets, errors) = strict(&bytes);
        prop_assert!(packets.len() + errors.len() <= usize::from(u16::MAX) + 1);
        let mut out = String::new();
        let _ = official::write_ticks(&bytes, &mut out);
    }

    #[test]
    fn random_frames_of_valid_lengths_never_panic(
        lengths in proptest::collection::vec(
            prop_oneof![Just(8u16), Just(28), Just(32), Just(44), Just(184), 0u16..200],
            0..6,
        ),
        fill in any::<u8>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut msg = (lengths.len() as u16).to_be_bytes().to_vec();
        for len in &lengths {
            msg.extend_from_slice(&len.to_be_bytes());
            msg.extend(std::iter::repeat(fill).take(usize::from(*len)));
        }
        let (complete, _) = strict(&msg);
        let cut = cut.index(msg.len() + 1);
        let (packets, _) = strict(&msg[..cut]);
        prop_assert!(packets.len() <= complete.len());
        prop_assert_eq!(&packets[..], &complete[..packets.len()]);
        let _ = official::write_ticks(&msg[..cut], &mut String::new());
    }

    #[test]
    fn cut_or_extended_real_frames_never_misread(
        which in any::<prop::sample::Index>(),
        cut in any::<prop::sample::Index>(),
        extra in proptest::collection::vec(any::<u8>(), 1..64),
    ) {
        let frames = fixture_frames();
        let frame = &frames[which.index(frames.len())];
        let (complete, errors) = strict(frame);
        prop_assert_eq!(errors, []);

        let cut = cut.index(frame.len() + 1);
        let (packets, errors) = strict(&frame[..cut]);
        prop_assert_eq!(&packets[..], &complete[..packets.len()]);
        if cut < frame.len() && frame.len() >= 2 {
            prop_assert!(cut < 2 || !errors.is_empty(), "a cut frame reports why");
        }
        let _ = official::write_ticks(&frame[..cut], &mut String::new());

        let mut longer = frame.clone();
        longer.extend_from_slice(&extra);
        let (packets, errors) = strict(&longer);
        if frame.len() >= 2 {
            prop_assert_eq!(&packets, &complete);
            prop_assert_eq!(errors, [DecodeError::TrailingBytes { extra: extra.len() as u16 }]);
        }
        let _ = official::write_ticks(&longer, &mut String::new());
    }
}

fn fixture_frames() -> &'static [Vec<u8>] {
    static FRAMES_BYTES: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    FRAMES_BYTES.get_or_init(|| frames().into_iter().map(|f| f.bytes).collect())
}
