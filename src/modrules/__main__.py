from modrules.cli import main

main()
