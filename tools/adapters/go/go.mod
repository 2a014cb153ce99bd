module netconform.local/goadapter

go 1.19
