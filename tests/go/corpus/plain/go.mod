module example.com/corpus/plain

go 1.19
