module boxwise.example/batch

go 1.19
