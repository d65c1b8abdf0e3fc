"""Workbook builders: plain data in, an openpyxl Workbook out."""
