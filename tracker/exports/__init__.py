"""Workbook builders: plain data in, a workbook (written with XlsxWriter) out."""
