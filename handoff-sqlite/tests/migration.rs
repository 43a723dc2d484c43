//! tokio-rusqlite 0.8's own crate-level example, with only its `use` line changed (the
//! diff in README.md): it compiles and runs unchanged otherwise.

use handoff_sqlite::{Connection, Result, params};

#[derive(Debug)]
struct Person {
    id: i32,
    name: String,
    data: Option<Vec<u8>>,
}

#[tokio::main]
async fn example() -> Result<()> {
    let conn = Connection::open_in_memory().await?;

    let people = conn
        .call(|conn| {
            conn.execute(
                "CREATE TABLE person (
                    id    INTEGER PRIMARY KEY,
                    name  TEXT NOT NULL,
                    data  BLOB
                )",
                [],
            )?;

            let steven = Person {
                id: 1,
                name: "Steven".to_string(),
                data: None,
            };

            conn.execute(
                "INSERT INTO person (name, data) VALUES (?1, ?2)",
                params![steven.name, steven.data],
            )?;

            let mut stmt = conn.prepare("SELECT id, name, data FROM person")?;
            let people = stmt
                .query_map([], |row| {
                    Ok(Person {
                        id: row.get(0)?,
                        name: row.get(1)?,
                        data: row.get(2)?,
                    })
                })?
                .collect::<std::result::Result<Vec<Person>, rusqlite::Error>>()?;

            Ok(people)
        })
        .await?;

    for person in &people {
        println!("Found person {:?}", person);
    }
    assert_eq!(people.len(), 1);
    assert_eq!((people[0].id, people[0].name.as_str()), (1, "Steven"));
    assert!(people[0].data.is_none());

    Ok(())
}

#[test]
fn tokio_rusqlites_example_runs_with_the_use_line_changed() {
    example().unwrap();
}
