from ado.cli import main

main()
