from tape.cli import main

main()
