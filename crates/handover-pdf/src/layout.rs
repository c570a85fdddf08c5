//! A small flow layout for one kind of document: headings, paragraphs, label–value facts and
//! tables on A4 pages, wrapped at word boundaries and broken across pages. krilla draws glyphs
//! and knows nothing of lines or pages; this module decides where each line goes and records,
//! for every line, which structure element (heading, paragraph, table cell) it belongs to, so
//! the PDF's tag tree reads in the order a person reads.

use krilla::text::Font;
use rustybuzz::{Face, UnicodeBuffer};

pub const PAGE_W: f32 = 595.28;
pub const PAGE_H: f32 = 841.89;
pub const MARGIN_X: f32 = 56.0;
pub const TOP: f32 = 72.0;
pub const BOTTOM: f32 = PAGE_H - 64.0;
pub const WIDTH: f32 = PAGE_W - 2.0 * MARGIN_X;

pub const BODY: f32 = 9.5;
pub const SMALL: f32 = 8.0;
const LEADING: f32 = 1.35;
const CELL_PAD: f32 = 3.0;
/// How wide a column must be for its header's longest word, at most.
const HEADER_WORD: f32 = 42.0;

static REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// The two faces: for measuring (rustybuzz) and for drawing (krilla, which subsets and embeds).
pub struct Fonts {
    regular: Face<'static>,
    bold: Face<'static>,
    pub krilla_regular: Font,
    pub krilla_bold: Font,
}

impl Fonts {
    pub fn load() -> Option<Fonts> {
        Some(Fonts {
            regular: Face::from_slice(REGULAR, 0)?,
            bold: Face::from_slice(BOLD, 0)?,
            krilla_regular: Font::new(REGULAR.into(), 0)?,
            krilla_bold: Font::new(BOLD.into(), 0)?,
        })
    }

    /// The advance width of `text` at `size` points, shaped as krilla shapes it.
    pub fn width(&self, text: &str, size: f32, bold: bool) -> f32 {
        let face = if bold { &self.bold } else { &self.regular };
        let mut buf = UnicodeBuffer::new();
        buf.push_str(text);
        buf.guess_segment_properties();
        let out = rustybuzz::shape(face, &[], buf);
        let units: i64 = out
            .glyph_positions()
            .iter()
            .map(|p| i64::from(p.x_advance))
            .sum();
        units as f32 * size / f32::from(face.units_per_em() as u16)
    }

    /// `text` as the embedded fonts can draw it: control characters dropped, and a character
    /// neither face has (a script DejaVu Sans lacks) written as its code point, `[U+1275]`. A
    /// PDF/A may not show a missing glyph, and the reader should see that something is there;
    /// the embedded JSON keeps the text as it is.
    pub fn printable(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            if c == '\n' {
                out.push(c);
            } else if c == '\t' {
                out.push(' ');
            } else if c.is_control() {
                continue;
            } else if matches!(c, '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{206f}' | '\u{feff}') {
                // Invisible format characters: nothing to show.
                continue;
            } else if self.regular.glyph_index(c).is_some() && self.bold.glyph_index(c).is_some() {
                out.push(c);
            } else {
                out.push_str(&format!("[U+{:04X}]", u32::from(c)));
            }
        }
        out
    }

    /// Breaks `text` into lines no wider than `width`: at spaces, keeping the text's own line
    /// breaks, and inside a word only when the word alone is too wide.
    pub fn wrap(&self, text: &str, size: f32, bold: bool, width: f32) -> Vec<String> {
        let text = self.printable(text);
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            for word in para.split_whitespace() {
                let candidate = if line.is_empty() {
                    word.to_owned()
                } else {
                    format!("{line} {word}")
                };
                if self.width(&candidate, size, bold) <= width {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                if self.width(word, size, bold) <= width {
                    line = word.to_owned();
                } else {
                    // A word wider than the column (a long address): broken by characters.
                    for c in word.chars() {
                        let mut next = line.clone();
                        next.push(c);
                        if !line.is_empty() && self.width(&next, size, bold) > width {
                            lines.push(std::mem::take(&mut line));
                            line.push(c);
                        } else {
                            line = next;
                        }
                    }
                }
            }
            lines.push(line);
        }
        while lines.len() > 1 && lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        lines
    }
}

pub fn line_height(size: f32) -> f32 {
    size * LEADING
}

/// A structure element of the tag tree, or a line of text in it.
pub enum Node {
    Group(Kind, Vec<Node>),
    Line(usize),
}

/// The structure elements this document uses.
#[derive(Clone, Debug)]
pub enum Kind {
    Section,
    Heading(u16, String),
    Paragraph,
    Note,
    Table,
    Head,
    Body,
    Row,
    HeaderCell { row_scope: bool },
    Cell,
}

/// One line of text placed on a page.
pub struct Line {
    pub page: usize,
    pub x: f32,
    pub y: f32,
    pub size: f32,
    pub bold: bool,
    pub text: String,
}

/// A drawn rule (table borders, the note's bar): decoration, an artifact in the PDF.
pub struct Rule {
    pub page: usize,
    pub x1: f32,
    pub y1: f32,
    pub x2: f32,
    pub y2: f32,
    pub width: f32,
}

/// A bookmark: a section's heading and where it starts.
pub struct Mark {
    pub title: String,
    pub page: usize,
    pub y: f32,
}

/// The laid-out document: pages of lines and rules, the tag tree over the lines, bookmarks.
pub struct Flow<'f> {
    pub fonts: &'f Fonts,
    pub lines: Vec<Line>,
    /// Column headers repeated on a table's later pages: drawn, but not read again.
    pub repeated: Vec<Line>,
    pub rules: Vec<Rule>,
    pub marks: Vec<Mark>,
    pub pages: usize,
    y: f32,
    stack: Vec<(Kind, Vec<Node>)>,
    pub roots: Vec<Node>,
}

/// A table: column headers, rows of cells, an optional totals row, and the share of the width
/// each column gets.
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub totals: Option<Vec<String>>,
}

impl<'f> Flow<'f> {
    pub fn new(fonts: &'f Fonts) -> Flow<'f> {
        Flow {
            fonts,
            lines: Vec::new(),
            repeated: Vec::new(),
            rules: Vec::new(),
            marks: Vec::new(),
            pages: 1,
            y: TOP,
            stack: Vec::new(),
            roots: Vec::new(),
        }
    }

    fn page(&self) -> usize {
        self.pages - 1
    }

    pub fn new_page(&mut self) {
        self.pages += 1;
        self.y = TOP;
    }

    /// Starts a new page unless `height` more fits on this one.
    fn room(&mut self, height: f32) {
        if self.y + height > BOTTOM && self.y > TOP {
            self.new_page();
        }
    }

    pub fn space(&mut self, h: f32) {
        self.y += h;
    }

    pub fn open(&mut self, kind: Kind) {
        self.stack.push((kind, Vec::new()));
    }

    pub fn close(&mut self) {
        if let Some((kind, children)) = self.stack.pop() {
            let node = Node::Group(kind, children);
            match self.stack.last_mut() {
                Some((_, parent)) => parent.push(node),
                None => self.roots.push(node),
            }
        }
    }

    fn leaf(&mut self, line: Line) {
        let id = self.lines.len();
        self.lines.push(line);
        match self.stack.last_mut() {
            Some((_, children)) => children.push(Node::Line(id)),
            None => self.roots.push(Node::Line(id)),
        }
    }

    /// Lines at `x`, one below the other from the current position, breaking pages as needed.
    fn text_lines(&mut self, lines: &[String], x: f32, size: f32, bold: bool) {
        for l in lines {
            self.room(line_height(size));
            let y = self.y + size;
            let page = self.page();
            self.leaf(Line {
                page,
                x,
                y,
                size,
                bold,
                text: l.clone(),
            });
            self.y += line_height(size);
        }
    }

    pub fn heading(&mut self, level: u16, text: &str) {
        let size = match level {
            1 => 17.0,
            2 => 13.0,
            _ => 10.5,
        };
        let lines = self.fonts.wrap(text, size, true, WIDTH);
        // A heading is kept with at least two lines of what follows it.
        self.room(line_height(size) * lines.len() as f32 + 3.0 * line_height(BODY));
        self.space(if level <= 2 { 8.0 } else { 4.0 });
        if level == 2 {
            let (page, y) = (self.page(), self.y);
            self.marks.push(Mark {
                title: text.to_owned(),
                page,
                y,
            });
        }
        self.open(Kind::Heading(level, text.to_owned()));
        self.text_lines(&lines, MARGIN_X, size, true);
        self.close();
        self.space(3.0);
    }

    pub fn paragraph(&mut self, text: &str, size: f32, bold: bool) {
        let lines = self.fonts.wrap(text, size, bold, WIDTH);
        self.open(Kind::Paragraph);
        self.text_lines(&lines, MARGIN_X, size, bold);
        self.close();
        self.space(4.0);
    }

    /// A paragraph set off by a bar on its left: the notes a reader must not miss.
    pub fn note(&mut self, text: &str) {
        let indent = 10.0;
        let lines = self.fonts.wrap(text, BODY, true, WIDTH - indent);
        self.space(2.0);
        self.open(Kind::Note);
        let mut start = (self.page(), self.y);
        for l in &lines {
            self.room(line_height(BODY));
            if self.page() != start.0 {
                self.bar(start, self.y_end_of(start.0));
                start = (self.page(), self.y);
            }
            self.text_lines(std::slice::from_ref(l), MARGIN_X + indent, BODY, true);
        }
        self.bar(start, self.y);
        self.close();
        self.space(6.0);
    }

    fn y_end_of(&self, page: usize) -> f32 {
        self.lines
            .iter()
            .rev()
            .find(|l| l.page == page)
            .map_or(BOTTOM, |l| l.y + 3.0)
    }

    fn bar(&mut self, (page, from): (usize, f32), to: f32) {
        self.rules.push(Rule {
            page,
            x1: MARGIN_X + 2.0,
            y1: from,
            x2: MARGIN_X + 2.0,
            y2: to,
            width: 2.5,
        });
    }

    /// Label–value pairs in two columns (a table whose rows are headed by their label).
    pub fn facts(&mut self, facts: &[(String, String)]) {
        if facts.is_empty() {
            return;
        }
        let label_w = 150.0;
        self.open(Kind::Table);
        self.open(Kind::Body);
        for (label, value) in facts {
            let l = self.fonts.wrap(label, BODY, true, label_w - 8.0);
            let v = self.fonts.wrap(value, BODY, false, WIDTH - label_w);
            let rows = l.len().max(v.len());
            // A fact of a few lines is kept on one page; a long text flows on.
            if rows <= 6 {
                self.room(line_height(BODY) * rows as f32);
            } else {
                self.room(line_height(BODY) * 2.0);
            }
            self.open(Kind::Row);
            let top = (self.page(), self.y);
            self.open(Kind::HeaderCell { row_scope: true });
            self.text_lines(&l, MARGIN_X, BODY, true);
            self.close();
            let after_label = (self.page(), self.y);
            (self.pages, self.y) = (top.0 + 1, top.1);
            self.open(Kind::Cell);
            self.text_lines(&v, MARGIN_X + label_w, BODY, false);
            self.close();
            if (after_label.0, after_label.1) > (self.page(), self.y) {
                (self.pages, self.y) = (after_label.0 + 1, after_label.1);
            }
            self.close();
            self.space(2.0);
        }
        self.close();
        self.close();
        self.space(4.0);
    }

    /// A table with a header row (repeated on each new page), rows and a totals row. A wide
    /// table is set a size smaller, so that no date or number has to break.
    pub fn table(&mut self, t: &Table) {
        let n = t.headers.len().max(1);
        let size = if n <= 5 { BODY } else { SMALL };
        let widths = self.column_widths(t, n, size);
        let mut all: Vec<(&Vec<String>, bool)> = t.rows.iter().map(|r| (r, false)).collect();
        if let Some(totals) = &t.totals {
            all.push((totals, true));
        }
        let wrapped: Vec<(Vec<Vec<String>>, bool)> = all
            .iter()
            .map(|(row, bold)| {
                let cells = row
                    .iter()
                    .zip(&widths)
                    .map(|(c, w)| self.fonts.wrap(c, size, *bold, w - 2.0 * CELL_PAD))
                    .collect();
                (cells, *bold)
            })
            .collect();
        let height = |cells: &Vec<Vec<String>>| {
            line_height(size) * cells.iter().map(Vec::len).max().unwrap_or(1) as f32
                + 2.0 * CELL_PAD
        };
        // The header is kept with the first row.
        let first = wrapped.first().map_or(0.0, |(c, _)| height(c));
        self.room(line_height(SMALL) * 2.0 + 2.0 * CELL_PAD + first);
        self.open(Kind::Table);
        self.open(Kind::Head);
        self.header_row(t, &widths, true);
        self.close();
        self.open(Kind::Body);
        for (cells, bold) in &wrapped {
            let h = height(cells);
            if self.y + h > BOTTOM {
                self.new_page();
                // The column headers again, as page decoration (they are read once).
                self.header_row(t, &widths, false);
            }
            let top = self.y;
            let page = self.page();
            self.open(Kind::Row);
            let mut x = MARGIN_X;
            for (cell, w) in cells.iter().zip(&widths) {
                self.open(if *bold {
                    Kind::HeaderCell { row_scope: true }
                } else {
                    Kind::Cell
                });
                for (i, l) in cell.iter().enumerate() {
                    let y = top + CELL_PAD + size + line_height(size) * i as f32;
                    self.leaf(Line {
                        page,
                        x: x + CELL_PAD,
                        y,
                        size,
                        bold: *bold,
                        text: l.clone(),
                    });
                }
                self.close();
                x += w;
            }
            self.close();
            self.y = top + h;
            self.hline(page, self.y, if *bold { 0.8 } else { 0.3 });
        }
        self.close();
        self.close();
        self.space(8.0);
    }

    fn header_row(&mut self, t: &Table, widths: &[f32], tagged: bool) {
        let wrapped: Vec<Vec<String>> = t
            .headers
            .iter()
            .zip(widths)
            .map(|(c, w)| self.fonts.wrap(c, SMALL, true, w - 2.0 * CELL_PAD))
            .collect();
        let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1);
        let h = line_height(SMALL) * lines as f32 + 2.0 * CELL_PAD;
        let top = self.y;
        let page = self.page();
        if tagged {
            self.open(Kind::Row);
        }
        let mut x = MARGIN_X;
        for (cell, w) in wrapped.iter().zip(widths) {
            if tagged {
                self.open(Kind::HeaderCell { row_scope: false });
            }
            for (i, l) in cell.iter().enumerate() {
                let line = Line {
                    page,
                    x: x + CELL_PAD,
                    y: top + CELL_PAD + SMALL + line_height(SMALL) * i as f32,
                    size: SMALL,
                    bold: true,
                    text: l.clone(),
                };
                if tagged {
                    self.leaf(line);
                } else {
                    self.repeated.push(line);
                }
            }
            if tagged {
                self.close();
            }
            x += w;
        }
        if tagged {
            self.close();
        }
        self.y = top + h;
        self.hline(page, self.y, 0.8);
    }

    fn hline(&mut self, page: usize, y: f32, width: f32) {
        self.rules.push(Rule {
            page,
            x1: MARGIN_X,
            y1: y,
            x2: MARGIN_X + WIDTH,
            y2: y,
            width,
        });
    }

    /// Each column as wide as its widest word needs, the rest shared by how much text it holds.
    fn column_widths(&self, t: &Table, n: usize, size: f32) -> Vec<f32> {
        let mut min = vec![0f32; n];
        let mut want = vec![0f32; n];
        let rows = std::iter::once((&t.headers, SMALL, true))
            .chain(t.rows.iter().map(|r| (r, size, false)))
            .chain(t.totals.iter().map(|r| (r, size, true)));
        for (row, size, bold) in rows {
            for (i, c) in row.iter().enumerate().take(n) {
                let mut widest_word = c
                    .split_whitespace()
                    .map(|w| self.fonts.width(w, size, bold))
                    .fold(0f32, f32::max);
                if size == SMALL && bold && std::ptr::eq(row, &t.headers) {
                    // A long word in a column header may break; a date or a number may not.
                    widest_word = widest_word.min(HEADER_WORD);
                }
                min[i] = min[i].max(widest_word + 2.0 * CELL_PAD + 1.0);
                want[i] = want[i].max(self.fonts.width(c, size, bold) + 2.0 * CELL_PAD + 1.0);
            }
        }
        let total_min: f32 = min.iter().sum();
        if total_min >= WIDTH {
            return min.iter().map(|m| m * WIDTH / total_min).collect();
        }
        let total_want: f32 = want.iter().sum();
        if total_want <= WIDTH {
            let extra = (WIDTH - total_want) / n as f32;
            return want.iter().map(|w| w + extra).collect();
        }
        let spare = WIDTH - total_min;
        let extra: Vec<f32> = want.iter().zip(&min).map(|(w, m)| w - m).collect();
        let total_extra: f32 = extra.iter().sum::<f32>().max(1.0);
        min.iter()
            .zip(&extra)
            .map(|(m, e)| m + spare * e / total_extra)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_font_lacks_is_named_and_controls_are_dropped() {
        let f = Fonts::load().expect("fonts");
        assert_eq!(f.printable("Åse Øyen"), "Åse Øyen");
        assert_eq!(f.printable("ት a\u{0}b\u{200b}c\td"), "[U+1275] abc d");
        assert_eq!(f.printable("日"), "[U+65E5]");
    }

    #[test]
    fn lines_fit_their_width_and_keep_every_word() {
        let f = Fonts::load().expect("fonts");
        let text =
            "Punktlig og arbeidsom, god kontakt med kolleger. Trenger mer norsk i kundedialog.";
        let lines = f.wrap(text, BODY, false, 120.0);
        assert!(lines.len() > 2);
        for l in &lines {
            assert!(f.width(l, BODY, false) <= 120.0, "{l}");
        }
        assert_eq!(lines.join(" "), text);
        // A word wider than the column is broken, not lost.
        let long = "https://www.example.no/a/very/long/address/without/spaces/at/all";
        let parts = f.wrap(long, BODY, false, 60.0);
        assert!(parts.len() > 1);
        assert_eq!(parts.concat(), long);
    }
}
