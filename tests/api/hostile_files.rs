//! Hostile files, made by code rather than checked in: each is small to upload and built to
//! make a spreadsheet reader allocate, spin or crash. Shared by the router tests
//! (`tests/api/hostile.rs`) and the measurement bench (`benches/hostile_uploads.rs`).

#![allow(dead_code)]

use std::io::{Cursor, Write};

/// Writes one part of a zip container.
pub type Body<'a> = Box<dyn FnOnce(&mut dyn Write) + 'a>;

/// A body of fixed bytes.
pub fn fixed(bytes: impl AsRef<[u8]> + 'static) -> Body<'static> {
    Box::new(move |w: &mut dyn Write| w.write_all(bytes.as_ref()).unwrap())
}

/// A zip container of `parts`, deflated.
pub fn zip_parts(parts: Vec<(String, Body<'_>)>) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for (name, body) in parts {
        out.start_file(name, opts).unwrap();
        body(&mut out);
    }
    out.finish().unwrap().into_inner()
}

/// An .xlsx of the given sheet bodies (each the inside of `<sheetData>` … or a whole
/// worksheet document when it starts with `<?xml`), with an optional shared-string part.
pub fn xlsx(sheets: Vec<Body<'_>>, shared: Option<Body<'_>>) -> Vec<u8> {
    let n = sheets.len();
    let mut types = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>"#,
    );
    let mut sheet_list = String::new();
    let mut rels = String::from(
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#,
    );
    for i in 1..=n {
        types.push_str(&format!(r#"<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#));
        sheet_list.push_str(&format!(
            r#"<sheet name="表{i}" sheetId="{i}" r:id="rId{i}"/>"#
        ));
        rels.push_str(&format!(r#"<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>"#));
    }
    if shared.is_some() {
        types.push_str(r#"<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>"#);
        rels.push_str(&format!(r#"<Relationship Id="rId{}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>"#, n + 1));
    }
    types.push_str("</Types>");
    rels.push_str("</Relationships>");
    let workbook = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>{sheet_list}</sheets></workbook>"#
    );
    let mut parts: Vec<(String, Body<'_>)> = vec![
        ("[Content_Types].xml".into(), fixed(types)),
        (
            "_rels/.rels".into(),
            fixed(
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
            ),
        ),
        ("xl/workbook.xml".into(), fixed(workbook)),
        ("xl/_rels/workbook.xml.rels".into(), fixed(rels)),
    ];
    for (i, body) in sheets.into_iter().enumerate() {
        let wrapped: Body<'_> = Box::new(move |w: &mut dyn Write| {
            w.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#).unwrap();
            body(w);
            w.write_all(b"</sheetData></worksheet>").unwrap();
        });
        parts.push((format!("xl/worksheets/sheet{}.xml", i + 1), wrapped));
    }
    if let Some(shared) = shared {
        parts.push(("xl/sharedStrings.xml".into(), shared));
    }
    zip_parts(parts)
}

/// A row of inline-string cells.
pub fn row_xml(row: usize, cells: &[&str]) -> String {
    let mut s = format!(r#"<row r="{}">"#, row + 1);
    for (c, v) in cells.iter().enumerate() {
        s.push_str(&format!(
            r#"<c r="{}{}" t="inlineStr"><is><t>{v}</t></is></c>"#,
            cancer_aid::roster::rows::column_letter(c),
            row + 1
        ));
    }
    s.push_str("</row>");
    s
}

/// The header row of a roster.
pub fn header_row() -> String {
    row_xml(0, &["身份证号码", "姓名", "区划代码", "保障起始日期"])
}

/// A shared-string table of `mib` MiB of one-letter strings that declares no count.
pub fn shared_string_bomb(mib: usize) -> Vec<u8> {
    let sst: Body<'_> = Box::new(move |w: &mut dyn Write| {
        w.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#).unwrap();
        let chunk = "<si><t>a</t></si>".repeat(1024 * 1024 / 17);
        for _ in 0..mib {
            w.write_all(chunk.as_bytes()).unwrap();
        }
        w.write_all(b"</sst>").unwrap();
    });
    xlsx(vec![fixed(header_row())], Some(sst))
}

/// A shared-string table that declares four billion strings and holds one.
pub fn shared_string_count_lie() -> Vec<u8> {
    let sst = r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="4000000000" uniqueCount="4000000000"><si><t>a</t></si></sst>"#;
    xlsx(vec![fixed(header_row())], Some(fixed(sst)))
}

/// A roster header padded with `mib` MiB of white space inside the sheet data.
pub fn whitespace_bomb(mib: usize) -> Vec<u8> {
    xlsx(
        vec![Box::new(move |w: &mut dyn Write| {
            w.write_all(header_row().as_bytes()).unwrap();
            let pad = vec![b' '; 1024 * 1024];
            for _ in 0..mib {
                w.write_all(&pad).unwrap();
            }
        })],
        None,
    )
}

/// Elements nested `depth` deep inside the sheet data.
pub fn deep_nesting(depth: usize) -> Vec<u8> {
    xlsx(
        vec![Box::new(move |w: &mut dyn Write| {
            w.write_all(header_row().as_bytes()).unwrap();
            for _ in 0..depth {
                w.write_all(b"<x>").unwrap();
            }
            for _ in 0..depth {
                w.write_all(b"</x>").unwrap();
            }
        })],
        None,
    )
}

/// A workbook of `n` tiny sheets.
pub fn many_sheets(n: usize) -> Vec<u8> {
    xlsx((0..n).map(|_| fixed(header_row())).collect(), None)
}

/// A roster header and one row with a value in each of `columns` columns.
pub fn wide_row(columns: usize) -> Vec<u8> {
    xlsx(
        vec![Box::new(move |w: &mut dyn Write| {
            w.write_all(header_row().as_bytes()).unwrap();
            let cells: Vec<String> = (0..columns).map(|c| format!("v{c}")).collect();
            let refs: Vec<&str> = cells.iter().map(String::as_str).collect();
            w.write_all(row_xml(1, &refs).as_bytes()).unwrap();
        })],
        None,
    )
}

/// A roster header and one row whose name cell holds `chars` characters.
pub fn long_cell(chars: usize) -> Vec<u8> {
    xlsx(
        vec![Box::new(move |w: &mut dyn Write| {
            w.write_all(header_row().as_bytes()).unwrap();
            let name = "张".repeat(chars);
            w.write_all(
                row_xml(1, &["220102197001010011", &name, "220102", "2020-01-01"]).as_bytes(),
            )
            .unwrap();
        })],
        None,
    )
}

/// A .xls whose one sheet declares 4,294,967,295 rows by 65,535 columns (what took the
/// service down: the reader reserved room for every one of those cells).
pub fn xls_lying_dimensions() -> Vec<u8> {
    fn record(out: &mut Vec<u8>, typ: u16, body: &[u8]) {
        out.extend(typ.to_le_bytes());
        out.extend((body.len() as u16).to_le_bytes());
        out.extend(body);
    }
    fn bof(dt: u16) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend(0x0600u16.to_le_bytes());
        b.extend(dt.to_le_bytes());
        b.extend(0x0DBBu16.to_le_bytes());
        b.extend(0x07CCu16.to_le_bytes());
        b.extend(0u32.to_le_bytes());
        b.extend(0x0006u32.to_le_bytes());
        b
    }
    let name = "Sheet1";
    let mut globals = Vec::new();
    record(&mut globals, 0x0809, &bof(0x0005));
    // BoundSheet8, its offset filled in below.
    let boundsheet_at = globals.len() + 4;
    let mut bs = vec![0u8; 4];
    bs.extend([0, 0, name.len() as u8, 0]);
    bs.extend(name.as_bytes());
    record(&mut globals, 0x0085, &bs);
    record(&mut globals, 0x000A, &[]);
    let sheet_at = globals.len() as u32;
    globals[boundsheet_at..boundsheet_at + 4].copy_from_slice(&sheet_at.to_le_bytes());
    record(&mut globals, 0x0809, &bof(0x0010));
    let mut dims = Vec::new();
    dims.extend(0u32.to_le_bytes());
    dims.extend(u32::MAX.to_le_bytes());
    dims.extend(0u16.to_le_bytes());
    dims.extend(0xFFFFu16.to_le_bytes());
    dims.extend(0u16.to_le_bytes());
    record(&mut globals, 0x0200, &dims);
    record(&mut globals, 0x000A, &[]);

    let mut cfb = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
    cfb.create_stream("/Workbook")
        .unwrap()
        .write_all(&globals)
        .unwrap();
    cfb.flush().unwrap();
    cfb.into_inner().into_inner()
}

/// An .ods whose one non-empty cell is repeated over a million rows by 16,384 columns.
pub fn ods_repeat_bomb() -> Vec<u8> {
    let content = r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="Sheet1"><table:table-row table:number-rows-repeated="1048576"><table:table-cell table:number-columns-repeated="16384" office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"#;
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;
    zip_parts(vec![
        (
            "mimetype".into(),
            fixed("application/vnd.oasis.opendocument.spreadsheet"),
        ),
        ("content.xml".into(), fixed(content)),
        ("META-INF/manifest.xml".into(), fixed(manifest)),
    ])
}

/// A CSV of one line of `bytes` bytes: a header cell, then one endless field.
pub fn csv_one_line(bytes: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(bytes);
    v.extend_from_slice("身份证号码,".as_bytes());
    v.resize(bytes, b'a');
    v
}

/// A roster CSV with NUL bytes in a name.
pub fn csv_with_nul() -> Vec<u8> {
    b"id_number,name\n220102197001010011,Zhang\0San\n".to_vec()
}

/// A roster CSV, UTF-8 but for a few bytes that are neither UTF-8 nor GBK.
pub fn csv_mixed_invalid_utf8() -> Vec<u8> {
    let mut v = "身份证号码,姓名\n220102197001010011,张三\n"
        .as_bytes()
        .to_vec();
    v.extend([0xFF, 0xFE, 0x80, b',', 0xC3, 0x28, b'\n']);
    v
}
