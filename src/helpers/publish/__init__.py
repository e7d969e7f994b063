"""Stage 5: PDFs, the privacy scan, the link check and the copy to a folder or .zip."""
