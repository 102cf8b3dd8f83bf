-- Registered server configurations (nvim-lspconfig's `lspconfig.configs`).
return {}
