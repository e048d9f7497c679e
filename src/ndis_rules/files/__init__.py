"""The shell that opens files: documents (contract, invoice, settings JSON/YAML), Support
Catalogue files, bulk payment request files, contract folders, atomic writes and the JSON
Schemas. Nothing in the core imports this package."""
