from dwnscraper.cli import main

main()
