def main() -> None:
    print("runlift")
