module example.com/corpus/cgo

go 1.19
