from shequn.cli import main

main()
