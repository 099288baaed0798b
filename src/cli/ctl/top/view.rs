//! Drawing `tickpipe ctl top` from a [`TopState`]: the header; positions and orders on
//! the left, strategies and latency on the right; the last fills and alerts side by
//! side; the status (or y/n) line and the keys at the bottom. Reads the state only.

use std::collections::VecDeque;

use ratatui::{
    layout::{Constraint, Layout, Rect},
    style::{Color, Modifier, Style, Stylize},
    text::{Line, Span},
    widgets::{Block, Cell, Paragraph, Row, Table},
    Frame,
};

use super::model::{EventRow, Tone, TopState, RECENT_EVENTS};
use crate::cli::ctl::render::Align;

const KEYS: &str = "q quit · ↑↓ position · Tab strategy · p pause · r resume · c close · \
                    F flatten · h halt · a activate";

/// Draws the whole dashboard into `frame`.
pub fn draw(frame: &mut Frame, state: &TopState) {
    let [header, tables, events, status, keys] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Min(8),
        Constraint::Length(RECENT_EVENTS as u16 + 2),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(62), Constraint::Percentage(38)]).areas(tables);
    let [positions, orders] =
        Layout::vertical([Constraint::Fill(1), Constraint::Fill(1)]).areas(left);
    let [strategies, latency] =
        Layout::vertical([Constraint::Fill(1), Constraint::Fill(1)]).areas(right);
    let [fills, alerts] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(events);

    draw_header(frame, header, state);
    draw_positions(frame, positions, state);
    draw_orders(frame, orders, state);
    draw_strategies(frame, strategies, state);
    draw_latency(frame, latency, state);
    draw_events(frame, fills, "Fills", &state.fills);
    draw_events(frame, alerts, "Alerts", &state.alerts);
    draw_status(frame, status, state);
    frame.render_widget(Paragraph::new(KEYS).style(Style::new().dim()), keys);
}

/// Green for gains, red for losses, plain for zero or unknown.
fn money_style(text: &str) -> Style {
    if text.starts_with('-') && text != "-" {
        Style::new().fg(Color::Red)
    } else if text.starts_with('+') && text.trim_start_matches(['+', '₹']) != "0.00" {
        Style::new().fg(Color::Green)
    } else {
        Style::new()
    }
}

fn trading_state_style(state: &str) -> Style {
    match state {
        "active" => Style::new().fg(Color::Green).bold(),
        "reducing" => Style::new().fg(Color::Yellow).bold(),
        "halted" => Style::new().fg(Color::Red).bold(),
        _ => Style::new().bold(),
    }
}

fn draw_header(frame: &mut Frame, area: Rect, state: &TopState) {
    let h = &state.header;
    let first = Line::from(format!(
        "{} ({}) · {} · session {}",
        h.mode, h.source, h.market_time, h.session
    ));
    let second = Line::from(vec![
        Span::raw("trading "),
        Span::styled(
            h.trading_state.to_uppercase(),
            trading_state_style(&h.trading_state),
        ),
        Span::raw(" │ P&L "),
        Span::styled(h.total.clone(), money_style(&h.total).bold()),
        Span::raw(" (realised "),
        Span::styled(h.realized.clone(), money_style(&h.realized)),
        Span::raw(", unrealised "),
        Span::styled(h.unrealized.clone(), money_style(&h.unrealized)),
        Span::raw(format!(", charges {}, net ", h.charges)),
        Span::styled(h.net.clone(), money_style(&h.net)),
        Span::raw(format!(
            ") │ open positions {} │ ticks {} │ fills {}",
            h.open_positions, h.ticks, h.fills
        )),
    ]);
    let block = Block::bordered().title(format!(" tickpipe top · {} ", state.endpoint));
    frame.render_widget(Paragraph::new(vec![first, second]).block(block), area);
}

/// One table row: its cells' text, a style for the whole row, and per-cell styles
/// (`None`: the row's).
struct GridRow {
    cells: Vec<String>,
    style: Style,
    cell_styles: Vec<Option<Style>>,
}

impl GridRow {
    fn new(cells: Vec<String>) -> GridRow {
        GridRow {
            cell_styles: vec![None; cells.len()],
            cells,
            style: Style::new(),
        }
    }

    fn style(mut self, style: Style) -> GridRow {
        self.style = style;
        self
    }

    /// Styles the cell in `column` by its own text (money green or red, a state...).
    fn style_cell(mut self, column: usize, style: impl Fn(&str) -> Style) -> GridRow {
        if let Some(text) = self.cells.get(column) {
            self.cell_styles[column] = Some(style(text));
        }
        self
    }
}

/// A bordered table whose columns are as wide as their widest cell (or heading), text
/// to the left and numbers to the right, as in `tickpipe ctl`'s printed tables.
fn grid(title: String, columns: &[(&'static str, Align)], rows: Vec<GridRow>) -> Table<'static> {
    let mut widths: Vec<usize> = columns.iter().map(|(h, _)| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(&row.cells) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let aligned = |text: String, align: Align| match align {
        Align::Left => Line::from(text),
        Align::Right => Line::from(text).right_aligned(),
    };
    let header = Row::new(
        columns
            .iter()
            .map(|(h, align)| Cell::from(aligned((*h).to_owned(), *align))),
    )
    .style(Style::new().add_modifier(Modifier::BOLD));
    let rows: Vec<Row> = rows
        .into_iter()
        .map(|row| {
            let cells = row.cells.into_iter().zip(row.cell_styles).zip(columns).map(
                |((text, style), (_, align))| {
                    let cell = Cell::from(aligned(text, *align));
                    match style {
                        Some(style) => cell.style(style),
                        None => cell,
                    }
                },
            );
            Row::new(cells).style(row.style)
        })
        .collect();
    let widths = widths.into_iter().map(|w| Constraint::Length(w as u16));
    Table::new(rows, widths)
        .header(header)
        .column_spacing(2)
        .block(Block::bordered().title(title))
}

fn selected_style(selected: bool) -> Style {
    if selected {
        Style::new().add_modifier(Modifier::REVERSED)
    } else {
        Style::new()
    }
}

fn draw_positions(frame: &mut Frame, area: Rect, state: &TopState) {
    let rows = state
        .positions
        .iter()
        .enumerate()
        .map(|(i, p)| {
            GridRow::new(vec![
                p.symbol.clone(),
                p.strategy.clone(),
                format!("{:+}", p.net),
                p.avg_price.clone(),
                p.mark.clone(),
                p.stop.clone(),
                p.unrealized.clone(),
            ])
            .style(selected_style(i == state.selected_position))
            .style_cell(6, money_style)
        })
        .collect();
    let columns = [
        ("SYMBOL", Align::Left),
        ("STRATEGY", Align::Left),
        ("NET", Align::Right),
        ("AVG PRICE", Align::Right),
        ("MARK", Align::Right),
        ("STOP", Align::Right),
        ("UNREALISED", Align::Right),
    ];
    let title = format!(
        " Positions ({}) · ↑↓ select, c close ",
        state.positions.len()
    );
    frame.render_widget(grid(title, &columns, rows), area);
}

fn draw_orders(frame: &mut Frame, area: Rect, state: &TopState) {
    let working = state.working.iter().map(|o| (o, true));
    let recent = state.recent.iter().map(|o| (o, false));
    let rows = working
        .chain(recent)
        .map(|(o, is_working)| {
            let style = match o.state.as_str() {
                _ if is_working => Style::new().fg(Color::Yellow),
                "rejected" => Style::new().fg(Color::Red),
                "cancelled" => Style::new().dim(),
                _ => Style::new(),
            };
            GridRow::new(vec![
                o.id.clone(),
                o.time.clone(),
                o.symbol.clone(),
                o.side.clone(),
                format!("{}/{}", o.filled, o.qty),
                o.avg_price.clone(),
                o.state.clone(),
                o.reason.clone(),
            ])
            .style(style)
        })
        .collect();
    let columns = [
        ("ID", Align::Right),
        ("TIME", Align::Left),
        ("SYMBOL", Align::Left),
        ("SIDE", Align::Left),
        ("FILLED/QTY", Align::Right),
        ("AVG PRICE", Align::Right),
        ("STATE", Align::Left),
        ("REASON", Align::Left),
    ];
    let title = format!(
        " Orders: {} working (yellow), then the recent finished ",
        state.working.len()
    );
    frame.render_widget(grid(title, &columns, rows), area);
}

fn draw_strategies(frame: &mut Frame, area: Rect, state: &TopState) {
    let rows = state
        .strategies
        .iter()
        .enumerate()
        .map(|(i, s)| {
            GridRow::new(vec![
                s.name.clone(),
                s.state.clone(),
                s.signals.clone(),
                s.total.clone(),
            ])
            .style(selected_style(i == state.selected_strategy))
            .style_cell(1, |state| {
                if state == "running" {
                    Style::new().fg(Color::Green)
                } else {
                    Style::new().fg(Color::Yellow)
                }
            })
            .style_cell(3, money_style)
        })
        .collect();
    let columns = [
        ("STRATEGY", Align::Left),
        ("STATE", Align::Left),
        ("SIGNALS", Align::Right),
        ("P&L", Align::Right),
    ];
    let title = " Strategies · Tab select, p pause, r resume ".to_owned();
    frame.render_widget(grid(title, &columns, rows), area);
}

fn draw_latency(frame: &mut Frame, area: Rect, state: &TopState) {
    let rows = state
        .latencies
        .iter()
        .map(|l| {
            // `service` is measured per stage; end-to-end paths name themselves.
            let path = if l.name == "service" {
                format!("{} service", l.stage)
            } else {
                l.name.clone()
            };
            GridRow::new(vec![path, l.p50.clone(), l.p99.clone(), l.max.clone()])
        })
        .collect();
    let columns = [
        ("PATH", Align::Left),
        ("P50", Align::Right),
        ("P99", Align::Right),
        ("MAX", Align::Right),
    ];
    frame.render_widget(grid(" Latency ".to_owned(), &columns, rows), area);
}

fn event_style(level: &str) -> Style {
    match level {
        "critical" => Style::new().fg(Color::Red).bold(),
        "warning" => Style::new().fg(Color::Yellow),
        "buy" => Style::new().fg(Color::Green),
        "sell" => Style::new().fg(Color::Magenta),
        _ => Style::new(),
    }
}

fn draw_events(frame: &mut Frame, area: Rect, title: &str, events: &VecDeque<EventRow>) {
    let lines: Vec<Line> = events
        .iter()
        .map(|e| {
            // The second is precise enough here; the milliseconds only cost width.
            let time: String = e.time.chars().take(8).collect();
            Line::from(vec![
                Span::styled(format!("{time} "), Style::new().dim()),
                Span::styled(e.text.clone(), event_style(&e.level)),
            ])
        })
        .collect();
    let block = Block::bordered().title(format!(" {title} (newest first) "));
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn draw_status(frame: &mut Frame, area: Rect, state: &TopState) {
    let line = if let Some(confirm) = &state.confirm {
        Line::from(format!(" {}  [y/n] ", confirm.question))
            .style(Style::new().fg(Color::Black).bg(Color::Yellow).bold())
    } else if let Some((tone, text)) = &state.status {
        let style = match tone {
            Tone::Info => Style::new(),
            Tone::Ok => Style::new().fg(Color::Green),
            Tone::Error => Style::new().fg(Color::Red).bold(),
        };
        Line::from(text.clone()).style(style)
    } else {
        Line::from("")
    };
    frame.render_widget(Paragraph::new(line), area);
}

#[cfg(test)]
mod tests {
    use ratatui::{backend::TestBackend, Terminal};

    use super::{super::model::tests::example_state, *};

    /// Draws `state` on a 120×40 test terminal and returns the screen as text.
    fn screen(state: &TopState) -> String {
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        terminal.draw(|frame| draw(frame, state)).unwrap();
        let buffer = terminal.backend().buffer();
        let width = buffer.area.width as usize;
        buffer
            .content()
            .chunks(width)
            .map(|row| row.iter().map(|c| c.symbol()).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn every_panel_shows_its_data() {
        let out = screen(&example_state());
        for expected in [
            "paper (synthetic)",
            "2026-11-25 10:31:02.250 IST",
            "ACTIVE",
            "+₹889.50",
            "-₹310.50",
            "Positions (2)",
            "SBIN",
            "INFY",
            "+150",
            "812.35",
            "sma_cross",
            "breakout",
            "paused",
            "tick→intent",
            "81.2 µs",
            "150/150",
            "10:31:02 buy 150 SBIN @ 812.35",
            "risk/exposure: exposure at 65% of the cap",
            "q quit",
        ] {
            assert!(out.contains(expected), "`{expected}` missing from:\n{out}");
        }
    }

    #[test]
    fn the_confirmation_replaces_the_status_line() {
        let mut state = example_state();
        state.status = Some((Tone::Ok, "trading state is now active (was halted)".into()));
        let out = screen(&state);
        assert!(out.contains("trading state is now active"), "{out}");
        state.confirm = Some(super::super::model::Confirm {
            question: "halt trading?".into(),
            command: "halt".into(),
        });
        let out = screen(&state);
        assert!(out.contains("halt trading?  [y/n]"), "{out}");
        assert!(!out.contains("trading state is now active"), "{out}");
    }

    #[test]
    fn an_empty_state_draws_without_data() {
        let out = screen(&TopState::new("socket var/tickpipe.sock".into()));
        assert!(
            out.contains("tickpipe top · socket var/tickpipe.sock"),
            "{out}"
        );
        assert!(out.contains("Positions (0)"), "{out}");
        assert!(out.contains("trading -"), "{out}");
    }
}
