module example.com/corpus/vendored

go 1.19

require example.com/greet v1.2.3

replace example.com/greet v1.2.3 => ../greet
