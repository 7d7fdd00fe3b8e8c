//! Prints the frames Go's pclntab gives for addresses: `symbolize FILE 0xADDR...`.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(file) = args.get(1) else {
        eprintln!("usage: symbolize FILE 0xADDR...");
        std::process::exit(2);
    };
    let data = std::fs::read(file).unwrap_or_default();
    let Ok(image) = boxwise_goprog::elf::ElfImage::parse(&data) else {
        eprintln!("{file}: not ELF");
        std::process::exit(1);
    };
    match boxwise_profile::pclntab::Pclntab::from_elf(&image) {
        Ok(t) => {
            println!(
                "functions={} go120={} inline={}",
                t.len(),
                t.is_go120(),
                t.has_inline_tree()
            );
            for a in &args[2..] {
                let pc = u64::from_str_radix(a.trim_start_matches("0x"), 16).unwrap_or(0);
                for f in t.frames(pc) {
                    println!(
                        "{pc:#x} {} {}:{} inlined={}",
                        f.function, f.file, f.line, f.inlined
                    );
                }
            }
        }
        Err(e) => println!("{file}: {e}"),
    }
}
