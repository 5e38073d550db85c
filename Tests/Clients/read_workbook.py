"""Reads an .xlsx with openpyxl (as a spreadsheet user's tools do) and prints what it holds as JSON:
each sheet's frozen pane, header, rows (values with their Python types) and number formats."""
import datetime
import json
import sys

import openpyxl

book = openpyxl.load_workbook(sys.argv[1])
out = {"sheets": book.sheetnames}
for sheet in book.worksheets:
    rows = []
    formats = []
    for row in sheet.iter_rows(min_row=2):
        values = []
        for cell in row:
            value = cell.value
            kind = type(value).__name__
            if isinstance(value, datetime.datetime):
                value = value.isoformat()
            values.append([kind, value])
        rows.append(values)
        formats.append([cell.number_format for cell in row])
    out[sheet.title] = {
        "freeze": sheet.freeze_panes,
        "header": [c.value for c in sheet[1]],
        "bold": all(c.font.b for c in sheet[1]),
        "rows": rows,
        "formats": formats,
        "formulas": sum(1 for row in sheet.iter_rows() for c in row if c.data_type == "f"),
    }
print(json.dumps(out))
