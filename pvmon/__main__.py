from pvmon.cli import main

main()
